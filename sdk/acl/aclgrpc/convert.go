package aclgrpc

import (
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	aclv2 "github.com/threefoldtech/hero_codescalers/sdk/proto/acl/v2"
)

var tagToProto = map[acl.Tag]aclv2.Tag{
	acl.TagUserObj: aclv2.Tag_TAG_USER_OBJ, acl.TagUser: aclv2.Tag_TAG_USER,
	acl.TagGroupObj: aclv2.Tag_TAG_GROUP_OBJ, acl.TagGroup: aclv2.Tag_TAG_GROUP,
	acl.TagMask: aclv2.Tag_TAG_MASK, acl.TagOther: aclv2.Tag_TAG_OTHER,
}

// tagFromProto maps the wire enum back; an unknown value becomes a tag the
// checks refuse, rather than a silently different one.
func tagFromProto(t aclv2.Tag) acl.Tag {
	for k, v := range tagToProto {
		if v == t {
			return k
		}
	}
	return acl.Tag("unspecified:" + t.String())
}

func entriesToProto(es []acl.Entry) []*aclv2.Entry {
	out := make([]*aclv2.Entry, len(es))
	for i, e := range es {
		out[i] = &aclv2.Entry{Tag: tagToProto[e.Tag], Qualifier: e.Qualifier, Perms: e.Perms, Default: e.Default}
	}
	return out
}

func entriesFromProto(es []*aclv2.Entry) []acl.Entry {
	out := make([]acl.Entry, len(es))
	for i, e := range es {
		out[i] = acl.Entry{Tag: tagFromProto(e.GetTag()), Qualifier: e.GetQualifier(), Perms: e.GetPerms(), Default: e.GetDefault()}
	}
	return out
}
