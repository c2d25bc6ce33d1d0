package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// Limits of a request, so one caller cannot make the host buffer or run
// without bound.
const (
	DefaultMaxBody  = 1 << 20
	DefaultMaxBatch = 100
)

// Auditor records calls to mutating methods; *core.Service is one.
type Auditor interface {
	AuditRecord(ctx context.Context, ev core.AuditEvent) (core.AuditEvent, error)
}

// Options configure a Server. Handlers is required; the rest has defaults.
type Options struct {
	// Methods is the table to serve; nil means api.Methods. Tests serve
	// their own tables, such as the specification's examples.
	Methods  []api.Method
	Handlers *Registry
	// Policy decides who is privileged; nil means NewHostPolicy with the
	// host's euid and no admin group.
	Policy Policy
	// Auditor records mutating calls; nil records nothing.
	Auditor  Auditor
	Logger   *slog.Logger
	MaxBody  int64
	MaxBatch int

	// RefusalWindow is how long a peer's repeated refusals are folded
	// into one counted audit record; 0 means DefaultRefusalWindow.
	RefusalWindow time.Duration

	// Observe, when set, is told of every call of a method in the table:
	// its name, its outcome ("ok" or the error's class) and its duration
	// (the host's metrics).
	Observe func(method, outcome string, d time.Duration)
}

// method is a table entry joined with its handler and its params decoder.
type method struct {
	api.Method
	call   Handler
	params *paramSpec
	// target is the index path of the params field named by Target, nil
	// when the method has no target.
	target []int
}

// Server is the JSON-RPC handler. It is safe for concurrent use.
type Server struct {
	methods  map[string]*method
	policy   Policy
	auditor  Auditor
	refusals *refusals // nil without an auditor
	log      *slog.Logger
	maxBody  int64
	maxBatch int
	observe  func(method, outcome string, d time.Duration)
	inflight inFlight
}

var _ http.Handler = (*Server)(nil)

// NewServer checks the handlers against the table and returns the server.
// Every table entry needs a handler of the table's params and result
// types, and every handler a table entry: a mismatch is an error here
// rather than a -32601 or a failed type assertion at call time.
func NewServer(o Options) (*Server, error) {
	if o.Handlers == nil {
		return nil, errors.New("rpc: no handlers")
	}
	s := &Server{
		methods: map[string]*method{}, policy: o.Policy, auditor: o.Auditor, log: o.Logger,
		maxBody: o.MaxBody, maxBatch: o.MaxBatch, observe: o.Observe,
	}
	s.inflight.budget.Max = maxInFlight
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.policy == nil {
		s.policy = NewHostPolicy(os.Geteuid(), "", s.log)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.maxBatch <= 0 {
		s.maxBatch = DefaultMaxBatch
	}
	if s.auditor != nil {
		window := o.RefusalWindow
		if window <= 0 {
			window = DefaultRefusalWindow
		}
		s.refusals = newRefusals(window, s.recordRefusals)
	}
	table := o.Methods
	if table == nil {
		table = api.Methods
	}
	if err := s.bindAll(table, o.Handlers); err != nil {
		return nil, fmt.Errorf("rpc: handlers do not match the method table: %w", err)
	}
	return s, nil
}

// Flush records the refusals still being counted, and from then on
// records each refusal at once. The host calls it when the API shuts
// down, so a flood's last window is not lost.
func (s *Server) Flush() {
	if s.refusals != nil {
		s.refusals.flush()
	}
}

// bindAll joins every table entry with its handler and reports every
// mismatch at once, so a broken table is fixed in one go.
func (s *Server) bindAll(table []api.Method, reg *Registry) error {
	var errs []error
	for _, m := range table {
		entry, err := bind(m, reg)
		if err == nil && s.methods[m.Name] != nil {
			err = fmt.Errorf("method %q is in the table twice", m.Name)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.methods[m.Name] = entry
	}
	for _, name := range reg.Names() {
		if !hasMethod(table, name) {
			errs = append(errs, fmt.Errorf("handler %q has no entry in the method table", name))
		}
	}
	return errors.Join(errs...)
}

func hasMethod(table []api.Method, name string) bool {
	for _, m := range table {
		if m.Name == name {
			return true
		}
	}
	return false
}

// bind joins a table entry with its handler, checking the types.
func bind(m api.Method, reg *Registry) (*method, error) {
	b, ok := reg.m[m.Name]
	if !ok {
		return nil, fmt.Errorf("method %q has no handler", m.Name)
	}
	pt, rt := reflect.TypeOf(m.Params), reflect.TypeOf(m.Result)
	if b.params != pt || b.result != rt {
		return nil, fmt.Errorf("method %q: handler takes %v and returns %v, the table says %v and %v", m.Name, b.params, b.result, pt, rt)
	}
	spec, err := newParamSpec(pt)
	if err != nil {
		return nil, fmt.Errorf("method %q: %w", m.Name, err)
	}
	entry := &method{Method: m, call: b.call, params: spec}
	if m.Target != "" {
		i, ok := spec.byName[m.Target]
		if !ok {
			return nil, fmt.Errorf("method %q: target %q is not a params member", m.Name, m.Target)
		}
		entry.target = spec.fields[i].Index
	}
	return entry, nil
}

// ServeHTTP routes the three endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/rpc":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST a JSON-RPC 2.0 request to /rpc", http.StatusMethodNotAllowed)
			return
		}
		s.serveRPC(w, r)
	case "/health":
		s.serveGet(w, r, api.MHealth)
	case "/openrpc.json":
		s.serveGet(w, r, api.MDiscover)
	default:
		http.NotFound(w, r)
	}
}
