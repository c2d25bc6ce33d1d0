package cli

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
)

// readInput reads a file named on the command line, or stdin for "-". A
// file that cannot be read is a bad argument (exit 2): nothing was sent.
func readInput(rt *runCtx, flag, path string) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if path == "-" {
		b, err = io.ReadAll(rt.env.Stdin)
	} else {
		b, err = os.ReadFile(rt.expand(path))
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, below
		}
		return nil, usageErrorf("%s %s: %v", flag, path, err)
	}
	return b, nil
}

// oneStdin refuses "-" for more than one input: the first reader would
// take all of stdin and the others would silently get nothing.
func oneStdin(paths ...string) error {
	n := 0
	for _, p := range paths {
		if p == "-" {
			n++
		}
	}
	if n > 1 {
		return usageErrorf("only one input can be read from stdin (-)")
	}
	return nil
}

// gatherKeys joins keys given as arguments with keys read from files in
// authorized_keys format.
func gatherKeys(rt *runCtx, keys, files []string, flag string) ([]string, error) {
	if err := oneStdin(files...); err != nil {
		return nil, err
	}
	var out []string
	for _, k := range keys {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	for _, f := range files {
		b, err := readInput(rt, flag, f)
		if err != nil {
			return nil, err
		}
		out = append(out, keyLines(string(b))...)
	}
	return out, nil
}

// keyLines splits authorized_keys text into keys, skipping blank lines and
// comments, as sshd reads the file.
func keyLines(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}
