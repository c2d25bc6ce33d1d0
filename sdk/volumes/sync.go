package volumes

import "context"

// deferSyncKey marks a context with DeferSync.
type deferSyncKey struct{}

// DeferSync marks ctx with the caller's promise: before it relies on what
// the calls made with ctx write, it calls Sync on those paths (files
// first, then the directories that hold them, up to the one holding a new
// volume). A plugin may then skip its own fsyncs in those calls — the
// several fsyncs of each small file cost far more than one Sync of them
// all at the end.
//
// Honouring the mark is optional, and ignoring it is always correct: a
// plugin that fsyncs anyway is merely slower. Until the caller's Sync
// returns, a crash may lose what a marked call wrote, or leave a replaced
// file empty, so the caller acknowledges nothing before then and must be
// able to redo the calls (the host's journal does). The mark crosses the
// gRPC boundary as metadata (package volumesgrpc), for the calls of every
// concern: an sshkeys plugin that writes key files honours it too.
func DeferSync(ctx context.Context) context.Context {
	return context.WithValue(ctx, deferSyncKey{}, true)
}

// SyncDeferred reports whether ctx carries the DeferSync mark, i.e.
// whether the plugin may skip its fsyncs in this call.
func SyncDeferred(ctx context.Context) bool {
	v, _ := ctx.Value(deferSyncKey{}).(bool)
	return v
}

// WithoutDeferSync clears the DeferSync mark of ctx: calls made with it
// fsync as they go. The host's adapters of older plugins use it, since such
// a plugin cannot report which files it left unsynced.
func WithoutDeferSync(ctx context.Context) context.Context {
	if !SyncDeferred(ctx) {
		return ctx
	}
	return context.WithValue(ctx, deferSyncKey{}, false)
}
