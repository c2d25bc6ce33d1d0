package proc

import "strconv"

// TTYName names the terminal device of a tty_nr, as it appears under /dev
// and in utmp's ut_line: pseudo-terminals (majors 136–143) are "pts/N",
// virtual consoles (major 4, minors 1–63) "ttyN" and serial ports (major
// 4, minors 64–255) "ttySN". Other devices get "".
func TTYName(dev uint64) string {
	major := (dev >> 8) & 0xfff
	minor := (dev & 0xff) | ((dev >> 12) & 0xfff00)
	switch {
	case major >= 136 && major <= 143:
		return "pts/" + strconv.FormatUint((major-136)*256+minor, 10)
	case major == 4 && minor >= 1 && minor < 64:
		return "tty" + strconv.FormatUint(minor, 10)
	case major == 4 && minor >= 64 && minor < 256:
		return "ttyS" + strconv.FormatUint(minor-64, 10)
	}
	return ""
}
