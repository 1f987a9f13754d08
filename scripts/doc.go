// Package scripts holds the build's shell scripts; its Go code is their
// tests: go runs the toolchain go.mod names, or says why it cannot,
// apt-install installs Debian packages (make deps runs both), and
// kube-build builds the kube tier's control plane into the machine's cache
// once (make kube-deps).
package scripts
