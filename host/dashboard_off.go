//go:build nodashboard

package host

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"github.com/threefoldtech/hero_codescalers/host/rpc"
)

// dashComponent does not exist in a host built with -tags nodashboard: a
// headless build, and the baseline `make bench` measures gin's weight
// against.
type dashComponent struct{}

func newDashboard(_ context.Context, _ Config, _ *core.Service, _ *plugins.Manager, _ *rpc.HostPolicy, _ http.Handler, log *slog.Logger) (*dashComponent, error) {
	log.Info("built without the dashboard (-tags nodashboard): no admin.sock (and so no /metrics), nothing on TCP")
	return nil, nil
}

func (*dashComponent) Name() string                             { return "dashboard" }
func (*dashComponent) Info() *api.DashboardInfo                 { return nil }
func (*dashComponent) Run(context.Context, *core.Service) error { return nil }
func (*dashComponent) closeListeners()                          {}
