// Package etcdb is the accounts plugins' model of the shadow-utils files
// (/etc/passwd, shadow, group, gshadow, subuid, subgid) and of login.defs:
// it parses them without NSS, answers the questions both accounts plugins
// ask (who is this user, is it in the marker group, is it locked, which uid
// is free next), and lets the files plugin edit the tables in memory while
// keeping every line it does not touch byte for byte. The shadow plugin only
// reads through it (useradd and friends write); the files plugin writes the
// edited tables back under the shadow-utils lock protocol.
package etcdb
