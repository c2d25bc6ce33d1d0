package etcdb

import (
	"slices"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// SubIDs are login.defs' settings for subordinate id ranges: a new
// non-system user gets Count ids from Min..Max, in /etc/subuid and
// /etc/subgid, when the file exists and Count is not 0 (useradd's
// find_new_sub_uids and find_new_sub_gids, shadow-utils 4.13).
type SubIDs struct{ Min, Max, Count uint64 }

// loadSubIDs reads one kind's settings (prefix SUB_UID or SUB_GID) with
// shadow-utils' defaults.
func loadSubIDs(kv map[string]string, prefix string) SubIDs {
	get := func(key string, def uint64) uint64 {
		if v, err := strconv.ParseUint(kv[prefix+"_"+key], 10, 64); err == nil {
			return v
		}
		return def
	}
	return SubIDs{Min: get("MIN", 100000), Max: get("MAX", 600100000), Count: get("COUNT", 65536)}
}

// AddSubIDs gives name a range in the subuid or subgid table (file) as
// useradd does: nothing when the file does not exist or Count is 0; else
// the table's leading records are sorted by start, count and owner
// (commonio_sort, which useradd runs before it searches) and the first
// hole of Count ids at or above Min that ends at or below Max is appended
// for name. No room is an error, as useradd's "can't get unique
// subordinate UID range" fails the whole create.
func (db *DB) AddSubIDs(file, name string, s SubIDs) error {
	t := db.Tables[file]
	if t == nil || s.Count == 0 {
		return nil
	}
	start, err := t.subRangeFor(file, s)
	if err != nil {
		return err
	}
	t.sortRanges()
	t.Append([]string{name, strconv.FormatUint(start, 10), strconv.FormatUint(s.Count, 10)})
	return nil
}

// CheckSubIDs fails when AddSubIDs would, changing nothing.
func (db *DB) CheckSubIDs(file string, s SubIDs) error {
	t := db.Tables[file]
	if t == nil || s.Count == 0 {
		return nil
	}
	_, err := t.subRangeFor(file, s)
	return err
}

// subRangeFor finds the start of the range AddSubIDs appends: the first
// hole in the ranges sorted as commonio_sort sorts them.
func (t *Table) subRangeFor(file string, s SubIDs) (uint64, error) {
	if s.Min > s.Max || s.Count >= s.Max || s.Min+s.Count-1 > s.Max {
		return 0, sdkerr.Errorf(sdkerr.FailedPrecondition, "login.defs: invalid subordinate id range %d..%d, count %d, for %s", s.Min, s.Max, s.Count, file)
	}
	start, ok := t.freeRange(s)
	if !ok {
		return 0, sdkerr.Errorf(sdkerr.FailedPrecondition, "no free subordinate id range of %d in %d..%d left in %s", s.Count, s.Min, s.Max, file)
	}
	return start, nil
}

// Append adds a record at the end even when one of its name exists: a
// subordinate id file may give one owner several ranges.
func (t *Table) Append(fields []string) {
	t.noEOL = false
	t.lines = append(t.lines, line{raw: strings.Join(fields, ":"), fields: slices.Clone(fields)})
	t.index = nil
	t.edits++
}

// subRange is a parsed "owner:start:count" record.
type subRange struct {
	owner        string
	start, count uint64
}

func parseRange(f []string) (subRange, bool) {
	if len(f) != 3 {
		return subRange{}, false
	}
	start, err1 := strconv.ParseUint(f[1], 10, 32)
	count, err2 := strconv.ParseUint(f[2], 10, 32)
	return subRange{f[0], start, count}, err1 == nil && err2 == nil
}

// sortRanges sorts the records up to the first line that is not a range,
// as commonio_sort sorts a database up to its first unparsed entry.
func (t *Table) sortRanges() {
	n := 0
	for n < len(t.lines) {
		if _, ok := parseRange(t.lines[n].fields); !ok {
			break
		}
		n++
	}
	sorted := slices.IsSortedFunc(t.lines[:n], cmpRange)
	if !sorted {
		slices.SortStableFunc(t.lines[:n], cmpRange)
		t.index = nil
		t.edits++
	}
}

// cmpRange is subordinate_range_cmp: by start, then count, then owner.
func cmpRange(a, b line) int {
	x, _ := parseRange(a.fields)
	y, _ := parseRange(b.fields)
	switch {
	case x.start != y.start:
		return cmpU(x.start, y.start)
	case x.count != y.count:
		return cmpU(x.count, y.count)
	}
	return strings.Compare(x.owner, y.owner)
}

func cmpU(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

// freeRange is find_free_range: walking the ranges as commonio_sort
// leaves them, the first hole of s.Count ids between s.Min and s.Max.
func (t *Table) freeRange(s SubIDs) (uint64, bool) {
	low := s.Min
	for _, r := range t.sortedRanges() {
		high := min(r.start, s.Max+1)
		if high > low && high-low >= s.Count {
			return low, true
		}
		if last := r.start + r.count - 1; low < last+1 {
			low = last + 1
		}
		if low > s.Max {
			return 0, false
		}
	}
	return low, s.Max-low+1 >= s.Count
}

// sortedRanges lists the parsed ranges in the order sortRanges leaves the
// table, without changing it.
func (t *Table) sortedRanges() []subRange {
	n := 0
	for n < len(t.lines) {
		if _, ok := parseRange(t.lines[n].fields); !ok {
			break
		}
		n++
	}
	lines := t.lines
	if !slices.IsSortedFunc(lines[:n], cmpRange) { // useradd keeps them sorted
		lines = slices.Clone(t.lines)
		slices.SortStableFunc(lines[:n], cmpRange)
	}
	var out []subRange
	for _, l := range lines {
		if r, ok := parseRange(l.fields); ok {
			out = append(out, r)
		}
	}
	return out
}
