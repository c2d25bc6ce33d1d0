package dashboard

import (
	"context"
	"fmt"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
)

// BenchmarkUsersPage renders one page of 50 users (the Users tab).
func BenchmarkUsersPage(b *testing.B) {
	fx := newFixture(b)
	for i := range 60 {
		if _, err := fx.svc.UserCreate(context.Background(), core.CreateSpec{Name: fmt.Sprintf("u%03d", i), SSHKeys: []string{testKey}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if w := fx.do(req{path: "/users"}); w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
