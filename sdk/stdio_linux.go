package sdk

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// guardStdout makes the handshake line the only thing the plugin ever
// writes to its stdout, which the host parses as the go-plugin protocol:
//
//  1. fd 1 is duplicated (close-on-exec) to keep the real stdout aside;
//  2. fd 1 is pointed at stderr, so writes to fd 1 by anything that
//     bypasses os.Stdout (cgo, a raw write, a child given fd 1) go to the
//     log instead;
//  3. os.Stdout becomes a pipe, which go-plugin prints the handshake line
//     into; a goroutine forwards that first line to the real stdout and
//     closes it, and copies anything after it to stderr.
//
// go-plugin then swaps os.Stdout for its own stdio pipe, and the first
// served call swaps it back to stderr (stopper.restoreStdio).
func guardStdout(stderr *os.File) error {
	fd, err := unix.FcntlInt(1, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return fmt.Errorf("dup stdout: %w", err)
	}
	real := os.NewFile(uintptr(fd), "stdout")
	if err := unix.Dup3(int(stderr.Fd()), 1, 0); err != nil {
		real.Close()
		return fmt.Errorf("point fd 1 at stderr: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		real.Close()
		return fmt.Errorf("handshake pipe: %w", err)
	}
	os.Stdout = w
	go forwardHandshake(r, real, stderr)
	return nil
}

func forwardHandshake(r io.Reader, real, stderr *os.File) {
	br := bufio.NewReader(r)
	line, err := br.ReadString('\n')
	if line != "" {
		_, _ = real.WriteString(line)
	}
	_ = real.Close()
	if err != nil {
		return
	}
	_, _ = io.Copy(stderr, br)
}
