// Package docs holds aku's user documentation (the Markdown files next to
// this one); its Go code is their tests: every citation in the repository
// points at something a user can read — a section of these documents that
// exists, or a public source — and never at a numbered section of a
// document the repository does not have.
package docs
