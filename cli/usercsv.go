package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// csvColumns are the columns of a users file. Only name is required; the
// others may be left out of the header or left empty in a row. Lists
// inside a field (groups, ssh_keys) are separated by ";", since "," ends
// the field.
var csvColumns = []string{"name", "uid", "quota", "groups", "shell", "ssh_keys", "forge_token"}

// maxCSVProblems bounds the problems listed: a file with the wrong
// separator has one on every line, and the first screenful says enough.
const maxCSVProblems = 20

// sizeRE is the shape of a size (20G, 1.5T, 500MiB, 1048576). The host
// decides what it is worth; the CLI only catches typos before a batch.
var sizeRE = regexp.MustCompile(`(?i)^(\d+\.?\d*|\.\d+)([KMGTP]?(I?B)?)$`)

// parseUsersCSV reads and checks a whole users file before anything is
// sent, so a typo on line 900 is not found after 899 users exist. Every
// problem names its line; none quotes a forge token.
func parseUsersCSV(r io.Reader) ([]api.UserCreateParams, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("the file is empty; the first line must be the header %s", strings.Join(csvColumns, ","))
	}
	if err != nil {
		return nil, csvError(err)
	}
	cols, err := csvHeader(header)
	if err != nil {
		return nil, err
	}
	return csvRows(cr, cols)
}

// csvHeader maps each column of the header to its field name, refusing
// unknown and repeated columns (a misspelt "forge-token" would otherwise
// drop every token without a word).
func csvHeader(header []string) ([]string, error) {
	seen := map[string]bool{}
	cols := make([]string, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case strings.Contains(h, ";"): // a spreadsheet's export in a ";" locale
			return nil, fmt.Errorf(`line 1: unknown column %q: fields are separated by ",", lists inside a field by ";"`, h)
		case !slices.Contains(csvColumns, h):
			return nil, fmt.Errorf("line 1: unknown column %q; the columns are %s", h, strings.Join(csvColumns, ","))
		case seen[h]:
			return nil, fmt.Errorf("line 1: column %s appears twice", h)
		}
		seen[h] = true
		cols[i] = h
	}
	if !seen["name"] {
		return nil, fmt.Errorf("line 1: the header has no name column")
	}
	return cols, nil
}

// csvRows reads the rows after the header, collecting every problem
// rather than stopping at the first, so one round of fixes is enough.
func csvRows(cr *csv.Reader, cols []string) ([]api.UserCreateParams, error) {
	var users []api.UserCreateParams
	var probs csvProblems
	firstLine := map[string]int{}
	for !probs.full() {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, csv.ErrFieldCount) { // the row came back: say how it differs
			line, _ := cr.FieldPos(0)
			probs.add(line, "%d fields, the header has %d", len(rec), len(cols))
			continue
		}
		if err != nil { // a broken quote: the rest of the file cannot be trusted
			probs.list = append(probs.list, csvError(err).Error())
			break
		}
		line, _ := cr.FieldPos(0)
		p, errs := csvUser(rec, cols)
		if prev, dup := firstLine[p.Name]; dup && p.Name != "" {
			errs = append(errs, fmt.Sprintf("name %s is also on line %d", p.Name, prev))
		} else if p.Name != "" {
			firstLine[p.Name] = line
		}
		for _, e := range errs {
			probs.add(line, "%s", e)
		}
		users = append(users, p)
	}
	if len(probs.list) > 0 {
		return nil, probs.err()
	}
	if len(users) == 0 {
		return nil, errors.New("no users: the file has a header and nothing else")
	}
	return users, nil
}

// csvProblems collects a file's problems, up to maxCSVProblems.
type csvProblems struct {
	list      []string
	truncated bool
}

func (p *csvProblems) add(line int, format string, args ...any) {
	if len(p.list) == maxCSVProblems {
		p.truncated = true
		return
	}
	p.list = append(p.list, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
}

// full stops reading once a problem past the limit was seen.
func (p *csvProblems) full() bool { return p.truncated }

// err is one error listing every problem, one a line.
func (p *csvProblems) err() error {
	more := ""
	if p.truncated {
		more = "\n  (stopped after " + strconv.Itoa(maxCSVProblems) + " problems)"
	}
	return fmt.Errorf("%s; nothing was created:\n  %s%s",
		plural(len(p.list), "problem"), strings.Join(p.list, "\n  "), more)
}

// csvUser turns one record into params and lists what is wrong with it.
func csvUser(rec, cols []string) (api.UserCreateParams, []string) {
	var p api.UserCreateParams
	var errs []string
	for i, v := range rec {
		v = strings.TrimSpace(v)
		if err := setCSVField(&p, cols[i], v); err != "" {
			errs = append(errs, cols[i]+": "+err)
		}
	}
	if p.Name == "" {
		errs = append(errs, "name: is empty")
	}
	return p, errs
}

// setCSVField stores one field and returns what is wrong with it, or "".
func setCSVField(p *api.UserCreateParams, col, v string) string {
	switch col {
	case "name":
		p.Name = v
	case "uid":
		return setUID(p, v)
	case "quota":
		if v != "" && !sizeRE.MatchString(v) {
			return fmt.Sprintf("%q is not a size like 500M or 20G", v)
		}
		p.Quota = v
	case "groups":
		p.Groups = splitList(v)
	case "shell":
		if v != "" && !strings.HasPrefix(v, "/") {
			return fmt.Sprintf("%q is not an absolute path", v)
		}
		p.Shell = v
	case "ssh_keys":
		p.SSHKeys = splitList(v)
		for n, k := range p.SSHKeys {
			if len(strings.Fields(k)) < 2 {
				return fmt.Sprintf("key %d is not a public key like 'ssh-ed25519 AAAA... comment'", n+1)
			}
		}
	case "forge_token":
		if strings.IndexFunc(v, unicode.IsSpace) >= 0 || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return "the token must be one word" // never quoted: it is a secret
		}
		p.ForgeToken = v
	}
	return ""
}

// setUID takes an optional uid; empty lets the host allocate one.
func setUID(p *api.UserCreateParams, v string) string {
	if v == "" {
		return ""
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Sprintf("%q is not a positive number", v)
	}
	p.UID = &n
	return ""
}

// splitList splits a ";"-separated field, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// csvError words encoding/csv's errors the way the others read: line
// first. The csv package never quotes field contents, so no token leaks.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %v", pe.StartLine, pe.Err)
	}
	return err
}
