package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether w is a terminal, where a bar redrawn in place
// reads well; in a log file the same \r-joined text would be one long
// line. A variable so tests can ask for either form.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// barWidth is the number of cells of the bar between the brackets.
const barWidth = 30

// progress shows how far a batch has come, on stderr so stdout stays the
// result (a table or --json). On a terminal it redraws one bar
// "[#####     ] 40/100"; elsewhere it writes a plain line about every tenth
// of the way, enough to show life in a CI log without flooding it.
type progress struct {
	w     io.Writer
	what  string
	total int
	tty   bool
	next  int // plain mode: print again once done reaches this
	drawn bool
}

func newProgress(w io.Writer, what string, total int, tty bool) *progress {
	p := &progress{w: w, what: what, total: total, tty: tty}
	if tty {
		p.update(0, 0)
	}
	return p
}

// update reports done items out of total, failed of them failed.
func (p *progress) update(done, failed int) {
	if p.tty {
		fmt.Fprintf(p.w, "\r%s", bar(done, p.total, failed))
		p.drawn = true
		return
	}
	if done < p.next && done < p.total {
		return
	}
	fmt.Fprintf(p.w, "%s: %d/%d done, %d failed\n", p.what, done, p.total, failed)
	p.next = done + max(p.total/10, 1)
}

// finish ends the bar's line so what follows starts on its own.
func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// bar draws "[#####     ] 40/100", and the failures once there are some.
func bar(done, total, failed int) string {
	n := barWidth
	if total > 0 {
		n = barWidth * min(done, total) / total
	}
	s := "[" + strings.Repeat("#", n) + strings.Repeat(" ", barWidth-n) + fmt.Sprintf("] %d/%d", done, total)
	if failed > 0 {
		s += fmt.Sprintf(" (%d failed)", failed)
	}
	return s
}
