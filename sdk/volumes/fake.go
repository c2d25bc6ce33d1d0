package volumes

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Fake is an in-memory Volumes for unit tests: volumes, snapshots,
// directories and files in maps, with the contract's checks and
// idempotency. Nothing touches the disk; File and Dir let a test look at
// what was placed, Synced what was synced and DeferredWrites which writes
// came under DeferSync. Used bytes are the sum of the files written below
// a volume.
type Fake struct {
	// Elsewhere, when set, tells Sync which paths other plugins wrote
	// (an sshkeys fake's key files, say), which this Fake never sees.
	Elsewhere func(path string) bool
	// Kind is the kind of volume it reports; KindDirectory when empty.
	Kind string

	mu    sync.Mutex
	vols  map[string]*fakeVolume
	snaps map[string]Snapshot
	dirs  map[string]Owner
	files map[string]FakeFile
	// below counts, for each directory above a volume, directory or file,
	// the entries beneath it and their bytes: Sync's "a directory holding
	// one" and a volume's used bytes then need no walk of every path.
	below    map[string]beneath
	synced   []string
	deferred []string
}

// beneath is what lies beneath a directory: how many volumes,
// directories and files, and the bytes of those files.
type beneath struct {
	entries int
	bytes   int
}

type fakeVolume struct {
	owner Owner
	quota uint64
	// uncovered are the subvolumes inside it its limit does not cover.
	uncovered []string
}

// FakeFile is a file WriteFile placed.
type FakeFile struct {
	Data  []byte
	Owner Owner
}

var _ Volumes = (*Fake)(nil)

// NewFake returns an empty Fake.
func NewFake() *Fake {
	return &Fake{vols: map[string]*fakeVolume{}, snaps: map[string]Snapshot{},
		dirs: map[string]Owner{}, files: map[string]FakeFile{}, below: map[string]beneath{}}
}

// placed counts path (newly in one of the maps, holding size bytes if a
// file) beneath each directory above it; removed undoes that.
func (f *Fake) placed(path string, size int)  { f.countAbove(path, 1, size) }
func (f *Fake) removed(path string, size int) { f.countAbove(path, -1, -size) }

func (f *Fake) countAbove(path string, entries, bytes int) {
	for dir := path; ; {
		i := strings.LastIndexByte(dir, '/')
		if i <= 0 {
			break
		}
		dir = dir[:i]
		b := f.below[dir]
		b.entries += entries
		b.bytes += bytes
		if b.entries <= 0 {
			delete(f.below, dir)
		} else {
			f.below[dir] = b
		}
	}
}

// File returns the file placed at path.
func (f *Fake) File(path string) (FakeFile, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	file, ok := f.files[path]
	return file, ok
}

// Synced returns the paths Sync was given, in order, over all calls.
func (f *Fake) Synced() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.synced)
}

// DeferredWrites returns the paths of the CreateVolume and WriteFile calls
// made under DeferSync, in order.
func (f *Fake) DeferredWrites() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.deferred)
}

// Dir returns the owner of the directory EnsureDir made at path.
func (f *Fake) Dir(path string) (Owner, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.dirs[path]
	return o, ok
}

// VolumeOwner is the owner and mode a volume was made with.
func (f *Fake) VolumeOwner(path string) (Owner, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.vols[path]
	if !ok {
		return Owner{}, false
	}
	return v.owner, true
}

func (f *Fake) view(path string) Volume {
	v := f.vols[path]
	used := uint64(f.below[path].bytes)
	var uncovered []string
	if v.quota > 0 {
		uncovered = slices.Clone(v.uncovered)
	}
	kind := f.Kind
	if kind == "" {
		kind = KindDirectory
	}
	return Volume{Path: path, Kind: kind, QuotaBytes: v.quota, UsedBytes: used, Uncovered: uncovered}
}

// Escape plays a user who made a subvolume at sub inside the volume at
// path that its limit does not cover, until SetQuota brings it under.
func (f *Fake) Escape(path, sub string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.vols[path]; ok {
		v.uncovered = append(v.uncovered, sub)
	}
}

func (f *Fake) CreateVolume(ctx context.Context, spec VolumeSpec) (Volume, error) {
	if err := ValidateVolumeSpec(spec); err != nil {
		return Volume{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noteDeferred(ctx, spec.Path)
	if v, ok := f.vols[spec.Path]; ok {
		if v.owner != spec.Owner {
			return Volume{}, sdkerr.Errorf(sdkerr.AlreadyExists, "volume %q exists with another owner or mode", spec.Path)
		}
		return f.view(spec.Path), nil
	}
	f.vols[spec.Path] = &fakeVolume{owner: spec.Owner, quota: spec.QuotaBytes}
	f.placed(spec.Path, 0)
	return f.view(spec.Path), nil
}

// DeleteVolume removes the volume and everything placed below it.
func (f *Fake) DeleteVolume(_ context.Context, path string) error {
	if err := check.AbsPath("path", path); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.vols[path]; ok {
		delete(f.vols, path)
		f.removed(path, 0)
	}
	if f.below[path].entries == 0 {
		return nil
	}
	for p, file := range f.files {
		if len(p) > len(path) && p[:len(path)+1] == path+"/" {
			delete(f.files, p)
			f.removed(p, len(file.Data))
		}
	}
	for p := range f.dirs {
		if len(p) > len(path) && p[:len(path)+1] == path+"/" {
			delete(f.dirs, p)
			f.removed(p, 0)
		}
	}
	return nil
}

func (f *Fake) SetQuota(_ context.Context, path string, quotaBytes uint64) (Volume, error) {
	if err := check.AbsPath("path", path); err != nil {
		return Volume{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.vols[path]
	if !ok {
		return Volume{}, sdkerr.Errorf(sdkerr.NotFound, "volume %q not found", path)
	}
	used := f.view(path).UsedBytes
	if quotaBytes > 0 && quotaBytes < used && (v.quota == 0 || quotaBytes < v.quota) {
		return Volume{}, sdkerr.Errorf(sdkerr.FailedPrecondition, "a limit of %d bytes is below the %d bytes %q holds", quotaBytes, used, path)
	}
	v.quota = quotaBytes
	if quotaBytes > 0 {
		v.uncovered = nil
	}
	return f.view(path), nil
}

func (f *Fake) GetUsage(_ context.Context, path string) (Volume, error) {
	if err := check.AbsPath("path", path); err != nil {
		return Volume{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.vols[path]
	if !ok {
		return Volume{}, sdkerr.Errorf(sdkerr.NotFound, "volume %q not found", path)
	}
	out := f.view(path)
	owner := v.owner
	out.Owner = &owner
	return out, nil
}

func (f *Fake) Snapshot(_ context.Context, spec SnapshotSpec) (Snapshot, error) {
	if err := ValidateSnapshotSpec(spec); err != nil {
		return Snapshot{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.vols[spec.Source]; !ok {
		return Snapshot{}, sdkerr.Errorf(sdkerr.NotFound, "volume %q not found", spec.Source)
	}
	if s, ok := f.snaps[spec.Dest]; ok {
		if s.Source != spec.Source || s.ReadOnly != spec.ReadOnly {
			return Snapshot{}, sdkerr.Errorf(sdkerr.AlreadyExists, "snapshot %q exists with other attributes", spec.Dest)
		}
		return s, nil
	}
	s := Snapshot{Path: spec.Dest, Source: spec.Source, ReadOnly: spec.ReadOnly, Created: time.Now().Unix()}
	f.snaps[spec.Dest] = s
	return s, nil
}

func (f *Fake) ListSnapshots(_ context.Context, path string) ([]Snapshot, error) {
	if err := check.AbsPath("path", path); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Snapshot
	for _, s := range f.snaps {
		if s.Source == path {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (f *Fake) DeleteSnapshot(_ context.Context, path string) error {
	if err := check.AbsPath("path", path); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.snaps, path)
	return nil
}

func (f *Fake) EnsureDir(_ context.Context, path string, owner Owner) error {
	if err := ValidatePlacement(path, nil, owner); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.files[path]; ok {
		return sdkerr.Errorf(sdkerr.FailedPrecondition, "%q is a file", path)
	}
	if _, ok := f.dirs[path]; !ok {
		f.placed(path, 0)
	}
	f.dirs[path] = owner
	return nil
}

func (f *Fake) WriteFile(ctx context.Context, path string, data []byte, owner Owner) error {
	if err := ValidatePlacement(path, data, owner); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.dirs[path]; ok {
		return sdkerr.Errorf(sdkerr.FailedPrecondition, "%q is a directory", path)
	}
	f.noteDeferred(ctx, path)
	if old, ok := f.files[path]; ok {
		f.countAbove(path, 0, len(data)-len(old.Data))
	} else {
		f.placed(path, len(data))
	}
	f.files[path] = FakeFile{Data: slices.Clone(data), Owner: owner}
	return nil
}

// Sync records the paths. A path the Fake does not know — not a volume, a
// directory or a file it placed, nor a directory holding one of them — is
// NotFound, and nothing of that call is recorded.
func (f *Fake) Sync(_ context.Context, paths []string) error {
	if err := ValidateSync(paths); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range paths {
		if !f.known(p) {
			return sdkerr.Errorf(sdkerr.NotFound, "%s does not exist", p)
		}
	}
	f.synced = append(f.synced, paths...)
	return nil
}

// known reports whether path is a volume, directory or file of the Fake,
// a directory above one, or a file Elsewhere vouches for.
func (f *Fake) known(path string) bool {
	_, vol := f.vols[path]
	_, dir := f.dirs[path]
	_, file := f.files[path]
	if vol || dir || file || f.below[path].entries > 0 {
		return true
	}
	return f.Elsewhere != nil && f.Elsewhere(path)
}

func (f *Fake) noteDeferred(ctx context.Context, path string) {
	if SyncDeferred(ctx) {
		f.deferred = append(f.deferred, path)
	}
}
