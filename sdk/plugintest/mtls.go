package plugintest

import (
	"context"
	"crypto/tls"
	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"net"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// mtls checks what go-plugin's AutoMTLS promises the host: that only the
// holder of the certificate it passed in PLUGIN_CLIENT_CERT can call the
// plugin. The handshake itself proved that the plugin answered with a
// certificate of its own and serves TLS; here a plaintext connection and
// a TLS connection without a client certificate must both be refused. Go
// plugins get this from go-plugin; a plugin in another language must
// build it (and can forget the client-certificate half).
func (k *kit) mtls(ctx context.Context) error {
	rc := k.client.ReattachConfig()
	if rc == nil || rc.Addr == nil {
		return conformance.Skip("go-plugin reports no address for the plugin")
	}
	return refusesStrangers(ctx, rc.Addr, k.opts.Timeout)
}

// refusesStrangers calls the health service at addr without the host's
// certificate, in plaintext and over TLS, and fails when either answers.
func refusesStrangers(ctx context.Context, addr net.Addr, timeout time.Duration) error {
	var problems []string
	if answers(ctx, addr, insecure.NewCredentials(), timeout) {
		problems = append(problems, "answers a plaintext connection: AutoMTLS is not in force")
	}
	// The plugin's certificate is not checked here: the point is whether
	// the plugin checks the caller's.
	noCert := credentials.NewTLS(&tls.Config{InsecureSkipVerify: true, ServerName: "localhost", MinVersion: tls.VersionTLS12}) //nolint:gosec
	if answers(ctx, addr, noCert, timeout) {
		problems = append(problems, "answers a TLS connection without the host's client certificate: "+
			"it must require and verify the certificate in PLUGIN_CLIENT_CERT")
	}
	return conformance.Problems(problems)
}

// answers reports whether a call of go-plugin's Ping over a connection
// to addr with creds got an answer from the plugin: any status but the
// transport's Unavailable (or no answer in time) is one, NotFound for an
// unknown health service included.
func answers(ctx context.Context, addr net.Addr, creds credentials.TransportCredentials, timeout time.Duration) bool {
	dial := func(ctx context.Context, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, addr.Network(), addr.String())
	}
	conn, err := grpc.NewClient("passthrough:///plugin", grpc.WithContextDialer(dial), grpc.WithTransportCredentials(creds))
	if err != nil {
		return false
	}
	defer conn.Close()
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err = grpc_health_v1.NewHealthClient(conn).Check(cctx, &grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName})
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return false
	}
	return true
}
