package accountsgrpc

import (
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	accountsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/accounts/v1"
)

func specToProto(s accounts.UserSpec) *accountsv1.UserSpec {
	return &accountsv1.UserSpec{
		Name: s.Name, Uid: s.UID, PrimaryGroup: s.PrimaryGroup, Groups: s.Groups,
		Shell: s.Shell, Home: s.Home, Gecos: s.GECOS, CreateHome: s.CreateHome,
		MarkerGroup: s.MarkerGroup,
	}
}

func specFromProto(s *accountsv1.UserSpec) accounts.UserSpec {
	return accounts.UserSpec{
		Name: s.GetName(), UID: s.GetUid(), PrimaryGroup: s.GetPrimaryGroup(),
		Groups: s.GetGroups(), Shell: s.GetShell(), Home: s.GetHome(),
		GECOS: s.GetGecos(), CreateHome: s.GetCreateHome(), MarkerGroup: s.GetMarkerGroup(),
	}
}

func userToProto(u accounts.User) *accountsv1.User {
	return &accountsv1.User{
		Name: u.Name, Uid: u.UID, Gid: u.GID, Home: u.Home, Shell: u.Shell,
		Groups: u.Groups, Locked: u.Locked, Gecos: u.GECOS,
	}
}

func userFromProto(u *accountsv1.User) accounts.User {
	return accounts.User{
		Name: u.GetName(), UID: u.GetUid(), GID: u.GetGid(), Home: u.GetHome(),
		Shell: u.GetShell(), Groups: u.GetGroups(), Locked: u.GetLocked(), GECOS: u.GetGecos(),
	}
}

func groupToProto(g accounts.Group) *accountsv1.Group {
	return &accountsv1.Group{Name: g.Name, Gid: g.GID, Members: g.Members}
}

func groupFromProto(g *accountsv1.Group) accounts.Group {
	return accounts.Group{Name: g.GetName(), GID: g.GetGid(), Members: g.GetMembers()}
}
