package sshkeys_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// BenchmarkFakeWrote is the volumes Fake's question (its Elsewhere) for
// the three files a user's create leaves to the sshkeys plugin, on a Fake
// holding the keys and keypair of 10 or 1,000 users: the fleet's agents
// bench asks it at every create's Sync, so its cost must not grow with
// the users.
func BenchmarkFakeWrote(b *testing.B) {
	for _, existing := range []int{10, 1000} {
		b.Run(fmt.Sprintf("users=%d", existing), func(b *testing.B) {
			ctx := context.Background()
			f := sshkeys.NewFake()
			for i := range existing {
				u := lifecycle.User{Name: fmt.Sprintf("user%d", i), UID: 1000, GID: 1000, Home: fmt.Sprintf("/home/user%d", i)}
				if _, err := f.AddAuthorizedKeys(ctx, u, nil); err != nil {
					b.Fatal(err)
				}
				if _, err := f.GenerateKeypair(ctx, sshkeys.KeypairSpec{User: u}); err != nil {
					b.Fatal(err)
				}
			}
			home := fmt.Sprintf("/home/user%d", existing/2)
			paths := []string{home + "/.ssh/authorized_keys", home + "/.ssh/id_ed25519", home + "/.ssh/id_ed25519.pub"}
			b.ReportAllocs()
			for b.Loop() {
				for _, p := range paths {
					if !f.Wrote(p) {
						b.Fatalf("%s not written", p)
					}
				}
			}
		})
	}
}
