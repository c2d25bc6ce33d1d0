package etcdb

import (
	"maps"
	"slices"
	"strconv"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// PendingGroupsFile, beside PendingFile, lists the groups an accounts
// plugin is creating or deleting in more than one write. A group goes on
// the managed-groups record only once it is made (groupadd, or the files
// plugin's commit of group and gshadow), and comes off it before it is
// removed: a crash in between leaves a group off the record, which no call
// may touch (Judge.ManagedGroup), so the host's rollback (or its retried
// delete) could never remove it, and would retry forever. So the plugin
// writes the group's name and gid here, durably, before the first write,
// and drops them once the group is on the record (or gone): until then
// Judge.DeletableGroup lets a delete of exactly that name and gid
// through. As with PendingFile, only the plugin writes it, for names it
// found free (or its own group it is deleting) and gids of the policy's
// range it chose or checked itself.
const PendingGroupsFile = "hero_codescalers/pending-groups"

// ReadPendingGroups reads the pending-groups record of dir, name to gid;
// none is empty, and one someone else could have written is refused
// (readRecord).
func ReadPendingGroups(dir string) (map[string]uint32, error) {
	lines, err := readRecord(dir, PendingGroupsFile, 2)
	if err != nil {
		return nil, err
	}
	out := map[string]uint32{}
	for _, f := range lines {
		if gid, err := strconv.ParseUint(f[1], 10, 32); err == nil && gid != 0 {
			out[f[0]] = uint32(gid)
		}
	}
	return out, nil
}

// WritePendingGroups replaces the pending-groups record of dir with m,
// durably, or removes it when m is empty. The caller holds Serialize.
func WritePendingGroups(dir string, m map[string]uint32) error {
	lines := make([][]string, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		lines = append(lines, []string{name, strconv.FormatUint(uint64(m[name]), 10)})
	}
	return writeRecord(dir, PendingGroupsFile, lines)
}

// PendGroup puts name with gid on the pending-groups record of dir; the
// caller holds Serialize.
func PendGroup(dir, name string, gid uint32) error {
	pend, err := ReadPendingGroups(dir)
	if err != nil {
		return err
	}
	if pend[name] == gid {
		return nil
	}
	pend[name] = gid
	return WritePendingGroups(dir, pend)
}

// UnpendGroup takes name off the pending-groups record of dir; the
// caller holds Serialize. A record that cannot be rewritten only keeps
// the entry longer: it names a group the plugin made, or nothing.
func UnpendGroup(dir, name string) error {
	pend, err := ReadPendingGroups(dir)
	if err != nil {
		return err
	}
	if _, ok := pend[name]; !ok {
		return nil
	}
	delete(pend, name)
	return WritePendingGroups(dir, pend)
}

// DeletableGroup is ManagedGroup for a delete: besides the managed groups
// it lets through a group on the pending-groups record with the same gid,
// in the policy's range: one the plugin began to make (or to delete) and
// could not finish. The marker group never is, whatever the record says.
func (j *Judge) DeletableGroup(name string, pending map[string]uint32) (accounts.Group, error) {
	g, err := j.ManagedGroup(name)
	if sdkerr.Is(err, sdkerr.PermissionDenied) && name != j.P.MarkerGroup && j.P.GIDAllowed(g.GID) {
		if gid, ok := pending[name]; ok && gid == g.GID {
			return g, nil
		}
	}
	return g, err
}
