// Package scripts holds the build's shell scripts; its Go code is their
// tests: go runs the toolchain go.mod names, or says why it cannot, and
// apt-install installs Debian packages (make deps runs both).
package scripts
