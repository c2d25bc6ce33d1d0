package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// emit prints a result: as indented JSON under --json (the value exactly as
// the API returned it, for scripts), otherwise through human, which writes
// aligned columns to a tabwriter.
func (rt *runCtx) emit(v any, human func(w io.Writer)) error {
	if rt.g.JSON {
		rt.emitted = true // an error after this must not print a second JSON value
		return writeJSON(rt.env.Stdout, v)
	}
	tw := tabwriter.NewWriter(rt.env.Stdout, 0, 4, 2, ' ', 0)
	human(tw)
	return tw.Flush()
}

// writeJSON prints v as indented JSON with a trailing newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// row writes one tab-separated table row; empty cells become "-" so the
// columns stay aligned and greppable.
func row(w io.Writer, cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		} else {
			cells[i] = printable(c)
		}
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// kv writes a "key:  value" line of a record view.
func kv(w io.Writer, key, value string) {
	if value == "" {
		value = "-"
	}
	fmt.Fprintf(w, "%s:\t%s\n", key, printable(value))
}

// printable makes a cell one line of plain text: line breaks and tabs
// become spaces, and any other control character is shown escaped (\x1b),
// so what a plugin or a peer answered (a session's tty, an error) can
// neither break the table nor drive the terminal.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r) || r == utf8.RuneError:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fmtTime shows a timestamp in local time to the second; the zero time
// (a field the host did not fill) shows as empty.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// fmtUptime rounds an uptime to what a person reads at a glance.
func fmtUptime(secs float64) string {
	d := time.Duration(secs * float64(time.Second))
	if d < 24*time.Hour {
		return d.Round(time.Second).String()
	}
	days := int(d / (24 * time.Hour))
	rest := (d % (24 * time.Hour)).Round(time.Minute)
	return fmt.Sprintf("%dd%s", days, rest)
}

// fmtLabels renders labels as sorted k=v pairs, the way --label takes them.
func fmtLabels(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}

// plural says "1 node" or "3 nodes" for the summary line under a table.
func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}
