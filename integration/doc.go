// Package integration holds the end-to-end tests of hero_codescalers: the
// real binaries against the real Linux tools (useradd, btrfs, setfacl, sshd),
// as root, inside a private mount namespace whose /etc is a copy and whose
// /home is a fresh btrfs filesystem on a loop device (see sandbox). The tests
// carry the build tag "integration"; nothing imports this package.
package integration
