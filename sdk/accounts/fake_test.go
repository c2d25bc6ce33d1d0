package accounts_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
)

// BenchmarkFakeCreateUser is one user's create as the host makes it (in the
// marker group, with a home) on a Fake already holding 10 or 1,000 users:
// the fleet's agents bench runs 50 Fakes in one process, so what a create
// costs the Fake is part of what it measures, and must not grow with the
// users it holds.
func BenchmarkFakeCreateUser(b *testing.B) {
	for _, existing := range []int{10, 1000} {
		b.Run(fmt.Sprintf("users=%d", existing), func(b *testing.B) {
			ctx := context.Background()
			f := accounts.NewFake()
			if _, err := f.CreateGroup(ctx, "hc-users", 0); err != nil {
				b.Fatal(err)
			}
			create := func(name string) {
				spec := accounts.UserSpec{Name: name, Home: "/home/" + name, MarkerGroup: "hc-users"}
				if _, err := f.CreateUser(ctx, spec); err != nil {
					b.Fatal(err)
				}
			}
			for i := range existing {
				create(fmt.Sprintf("user%d", i))
			}
			// A batch's users are deleted again off the clock, so the Fake
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
						if err := f.DeleteUser(ctx, name, accounts.DeleteOptions{MarkerGroup: "hc-users"}); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
				}
			}
		})
	}
}
