package rpc

import (
	"context"
	"fmt"
	"reflect"
)

// Handler runs one method. params is a value of the method's Params type
// from the table, already decoded and checked for required members; the
// result must be of the table's Result type.
type Handler func(ctx context.Context, params any) (any, error)

// binding is a handler with the Go types it was registered for, so the
// server can check them against the table at construction instead of
// failing a type assertion in the middle of a call.
type binding struct {
	params, result reflect.Type
	call           Handler
}

// Registry maps method names to handlers. Build it with Register; NewServer
// checks it against the method table.
type Registry struct {
	m map[string]binding
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]binding{}} }

// Register binds a typed function to a method name. P and R must be the
// table's Params and Result types of that method; NewServer refuses a
// registry where they are not. Registering a name twice is a programming
// error and panics.
func Register[P, R any](r *Registry, name string, fn func(context.Context, P) (R, error)) {
	if _, dup := r.m[name]; dup {
		panic(fmt.Sprintf("rpc: method %q registered twice", name))
	}
	r.m[name] = binding{
		params: reflect.TypeFor[P](),
		result: reflect.TypeFor[R](),
		call: func(ctx context.Context, p any) (any, error) {
			return fn(ctx, p.(P))
		},
	}
}

// Names lists the registered method names, in no particular order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	return names
}
