package aclgrpc

import (
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	aclv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/acl/v1"
)

var tagToProto = map[acl.Tag]aclv1.Tag{
	acl.TagUserObj: aclv1.Tag_TAG_USER_OBJ, acl.TagUser: aclv1.Tag_TAG_USER,
	acl.TagGroupObj: aclv1.Tag_TAG_GROUP_OBJ, acl.TagGroup: aclv1.Tag_TAG_GROUP,
	acl.TagMask: aclv1.Tag_TAG_MASK, acl.TagOther: aclv1.Tag_TAG_OTHER,
}

// tagFromProto maps the wire enum back; an unknown value becomes a tag the
// checks refuse, rather than a silently different one.
func tagFromProto(t aclv1.Tag) acl.Tag {
	for k, v := range tagToProto {
		if v == t {
			return k
		}
	}
	return acl.Tag("unspecified:" + t.String())
}

func entriesToProto(es []acl.Entry) []*aclv1.Entry {
	out := make([]*aclv1.Entry, len(es))
	for i, e := range es {
		out[i] = &aclv1.Entry{Tag: tagToProto[e.Tag], Qualifier: e.Qualifier, Perms: e.Perms, Default: e.Default}
	}
	return out
}

func entriesFromProto(es []*aclv1.Entry) []acl.Entry {
	out := make([]acl.Entry, len(es))
	for i, e := range es {
		out[i] = acl.Entry{Tag: tagFromProto(e.GetTag()), Qualifier: e.GetQualifier(), Perms: e.GetPerms(), Default: e.GetDefault()}
	}
	return out
}
