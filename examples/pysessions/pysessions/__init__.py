"""pysessions: a hero_codescalers sessions plugin written in Python.

It speaks hashicorp/go-plugin's protocol itself (goplugin), serves the
sdk's sessions.v2 and identity.v1 contracts from stubs generated at build
time (service), finds login sessions in /proc (procfs, discover), ends
them with signals (reap, uidkill), and acts only on the accounts the
machine's root-owned policy manages (policy). build.sh packs it, with its
stubs, into one executable zipapp.
"""
