package volumes_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// BenchmarkFakeCreateHome is what the host's create asks of the volumes
// plugin for one user, under DeferSync: the home's volume, its layout's
// directories, the config file and the keypair, then one Sync of them all
// and the home root; on a Fake already holding 10 or 1,000 homes. The
// fleet's agents bench runs 50 Fakes in one process, so what a create
// costs the Fake is part of what it measures, and must not grow with the
// homes it holds.
func BenchmarkFakeCreateHome(b *testing.B) {
	for _, existing := range []int{10, 1000} {
		b.Run(fmt.Sprintf("homes=%d", existing), func(b *testing.B) {
			ctx := volumes.DeferSync(context.Background())
			f := volumes.NewFake()
			create := func(name string) {
				if err := createHome(ctx, f, name); err != nil {
					b.Fatal(err)
				}
			}
			for i := range existing {
				create(fmt.Sprintf("user%d", i))
			}
			// A batch's homes are deleted again off the clock, so the Fake
			// never holds more than a batch over existing.
			const batch = 10
			names := make([]string, batch)
			for i := range names {
				names[i] = fmt.Sprintf("new%d", i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				create(names[i%batch])
				if i%batch == batch-1 || i == b.N-1 {
					b.StopTimer()
					for _, name := range names[:i%batch+1] {
						if err := f.DeleteVolume(ctx, "/home/"+name); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
				}
			}
		})
	}
}

// createHome makes the home of name as core's create does.
func createHome(ctx context.Context, f *volumes.Fake, name string) error {
	home := "/home/" + name
	ssh, hero, cfg, vr, sockets := home+"/.ssh", home+"/hero", home+"/hero/cfg", home+"/hero/var", home+"/hero/var/sockets"
	own := volumes.Owner{UID: 1000, GID: 1000, Mode: 0o755}
	if _, err := f.CreateVolume(ctx, volumes.VolumeSpec{Path: home, Owner: own}); err != nil {
		return err
	}
	for _, d := range []string{ssh, hero, cfg, vr, sockets} {
		if err := f.EnsureDir(ctx, d, own); err != nil {
			return err
		}
	}
	files := []string{cfg + "/hero_cfg.toml", ssh + "/id_ed25519", ssh + "/id_ed25519.pub"}
	for _, p := range files {
		if err := f.WriteFile(ctx, p, []byte("some bytes\n"), own); err != nil {
			return err
		}
	}
	return f.Sync(ctx, append(files, ssh, cfg, sockets, vr, hero, home, "/home"))
}

// BenchmarkFakeGetUsage is a home's usage on a Fake holding 10 or 1,000
// homes as createHome makes them: the bytes of one home's files, which
// must not cost a walk of every home's.
func BenchmarkFakeGetUsage(b *testing.B) {
	for _, existing := range []int{10, 1000} {
		b.Run(fmt.Sprintf("homes=%d", existing), func(b *testing.B) {
			ctx := volumes.DeferSync(context.Background())
			f := volumes.NewFake()
			for i := range existing {
				if err := createHome(ctx, f, fmt.Sprintf("user%d", i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				v, err := f.GetUsage(ctx, "/home/user0")
				if err != nil || v.UsedBytes != 3*11 {
					b.Fatal(v, err)
				}
			}
		})
	}
}
