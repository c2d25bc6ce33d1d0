// Package plugins is the host's plugin manager: it runs one out-of-process
// go-plugin plugin per OS concern (accounts, volumes, acl, sshkeys,
// sessions) and gives core clients for them that survive plugin restarts.
//
// The life of a plugin, in the order the manager sees it:
//
//   - Discover finds executables with a manifest beside them in the plugin
//     dirs, refusing files others could have changed (world- or
//     group-writable, owned by another user, symlinked out of the dir).
//   - Select picks one per concern from the manifests alone: a pin wins,
//     else exact os-release ID > ID_LIKE > generic, then a plugin naming
//     the home root's filesystem, then the higher version.
//   - The lock (Badger, plugin/lock/<concern>) records each chosen
//     binary's sha256 on first use; a different binary or digest is refused
//     until Approve records it.
//   - Plugins start in parallel, one process per binary. As root the host
//     execs them with go-plugin's SecureConfig and AutoMTLS; unprivileged,
//     through `sudo -n --` under the digest-pinned rules of host/setup.
//   - A supervisor per process probes it, notices its exit, and restarts
//     it with bounded exponential backoff. Calls in flight on a dead
//     process fail with core.Unavailable ("plugin shadow (accounts) is
//     unavailable: restarting"); no plugin failure reaches the host's own
//     goroutines.
//
// Facts about sudo this package depends on, checked with sudo 1.9.13: sudo
// forks and stays between host and plugin unless the rule sets !use_pty,
// !pam_session and !pam_setcred, in which case it execs the plugin in
// place; the kernel clears the host's Pdeathsig across sudo's setuid exec,
// so it is the sdk's watchdog, re-armed inside the plugin, that ends a
// plugin whose host died; and an unprivileged host cannot signal its root
// plugins, so stopping one relies on go-plugin's graceful shutdown over
// gRPC (a hung one is given up on after a timeout and dies with the host).
package plugins
