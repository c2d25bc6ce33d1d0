package acl

import aclv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/acl/v1"

var tagToProto = map[Tag]aclv1.Tag{
	TagUserObj: aclv1.Tag_TAG_USER_OBJ, TagUser: aclv1.Tag_TAG_USER,
	TagGroupObj: aclv1.Tag_TAG_GROUP_OBJ, TagGroup: aclv1.Tag_TAG_GROUP,
	TagMask: aclv1.Tag_TAG_MASK, TagOther: aclv1.Tag_TAG_OTHER,
}

// tagFromProto maps the wire enum back; an unknown value becomes a tag the
// checks refuse, rather than a silently different one.
func tagFromProto(t aclv1.Tag) Tag {
	for k, v := range tagToProto {
		if v == t {
			return k
		}
	}
	return Tag("unspecified:" + t.String())
}

func entriesToProto(es []Entry) []*aclv1.Entry {
	out := make([]*aclv1.Entry, len(es))
	for i, e := range es {
		out[i] = &aclv1.Entry{Tag: tagToProto[e.Tag], Qualifier: e.Qualifier, Perms: e.Perms, Default: e.Default}
	}
	return out
}

func entriesFromProto(es []*aclv1.Entry) []Entry {
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = Entry{Tag: tagFromProto(e.GetTag()), Qualifier: e.GetQualifier(), Perms: e.GetPerms(), Default: e.GetDefault()}
	}
	return out
}
