package departments

import (
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/config"
	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

// roomRef names a managed room before its id is known.
type roomRef struct {
	Kind store.RoomKind
	Key  string // department id; "" for the authority space
}

// stateSpec is one state event rathaus manages in a room.
type stateSpec struct {
	Type     event.Type
	StateKey string
	Content  any
}

// roomSpec is what a managed room should look like according to the
// config. Building it is pure; applying it is the reconciler's job.
type roomSpec struct {
	Ref     roomRef
	Alias   id.RoomAlias
	IsSpace bool
	Name    string
	Topic   string
	State   []stateSpec
	// Users is the complete users map of the power levels, bot included.
	Users map[id.UserID]int
	// Members are the users who must be joined or invited (bot excluded).
	Members  []id.UserID
	Parent   *roomRef
	Children []roomRef
}

// aliasLocalparts: the staff room keeps the department id, the space adds
// "_space", the authority space is "space". Department ids cannot contain
// "_" and "space" is reserved, so the three never collide.
func authoritySpaceRef() roomRef { return roomRef{Kind: store.RoomAuthoritySpace} }
func departmentSpaceRef(d protocol.DepartmentID) roomRef {
	return roomRef{Kind: store.RoomDepartmentSpace, Key: string(d)}
}
func staffRoomRef(d protocol.DepartmentID) roomRef {
	return roomRef{Kind: store.RoomStaff, Key: string(d)}
}

func aliasName(ref roomRef) string {
	switch ref.Kind {
	case store.RoomAuthoritySpace:
		return "space"
	case store.RoomDepartmentSpace:
		return ref.Key + "_space"
	default:
		return ref.Key
	}
}

// desiredRooms returns the specs of every active managed room, parents
// before children.
func desiredRooms(cfg *config.Config) []roomSpec {
	bot := cfg.BotUserID()
	everyone := map[id.UserID]int{bot: config.BotPowerLevel}
	var allStaff []id.UserID
	var children []roomRef
	var specs []roomSpec
	for _, d := range cfg.Departments {
		users := map[id.UserID]int{bot: config.BotPowerLevel}
		var members []id.UserID
		for _, s := range d.Staff {
			users[s.User] = s.Role.PowerLevel()
			members = append(members, s.User)
			if _, seen := everyone[s.User]; !seen {
				allStaff = append(allStaff, s.User)
			}
			everyone[s.User] = max(everyone[s.User], s.Role.PowerLevel())
		}
		space, staff := departmentSpaceRef(d.ID), staffRoomRef(d.ID)
		parent := authoritySpaceRef()
		children = append(children, space)
		specs = append(specs,
			roomSpec{
				Ref: space, Alias: cfg.GhostAlias(aliasName(space)), IsSpace: true,
				Name: d.Name, Topic: d.Description,
				State: []stateSpec{{Type: protocol.DepartmentEventType, Content: departmentContent(&d, protocol.RoomKindSpace, false)}},
				Users: users, Members: members, Parent: &parent, Children: []roomRef{staff},
			},
			roomSpec{
				Ref: staff, Alias: cfg.GhostAlias(aliasName(staff)),
				Name: d.Name + " – Team", Topic: "Sprechzeiten: " + d.Schedule.Summary(),
				State: []stateSpec{{Type: protocol.DepartmentEventType, Content: departmentContent(&d, protocol.RoomKindStaffRoom, false)}},
				Users: cloneUsers(users), Members: members, Parent: &space,
			})
	}
	a := cfg.Authority
	authorityState := []stateSpec{{Type: protocol.AuthorityEventType, Content: &protocol.AuthorityContent{
		Name: a.Name, ShortName: a.ShortName, AGS: a.AGS, ARS: a.ARS, ServerName: cfg.Homeserver.ServerName,
		ContactURL: a.ContactURL, PrivacyURL: a.PrivacyURL,
	}}}
	if a.Avatar != "" {
		authorityState = append(authorityState, stateSpec{Type: event.StateRoomAvatar, Content: &event.RoomAvatarEventContent{URL: id.ContentURIString(a.Avatar)}})
	}
	authority := roomSpec{
		Ref: authoritySpaceRef(), Alias: cfg.GhostAlias(aliasName(authoritySpaceRef())), IsSpace: true,
		Name: a.Name, Topic: "Virtuelles Rathaus · " + a.Name,
		State: authorityState, Users: everyone, Members: allStaff, Children: children,
	}
	return append([]roomSpec{authority}, specs...)
}

func departmentContent(d *config.DepartmentConfig, room protocol.RoomKind, archived bool) *protocol.DepartmentContent {
	return &protocol.DepartmentContent{
		ID: d.ID, Name: d.Name, Description: d.Description, Room: room,
		Services: nonNil(d.Services), TimeZone: d.TimeZone, OfficeHours: d.OfficeHours,
		ClosedDates: nonNil(d.ClosedDates), Archived: archived,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func cloneUsers(m map[id.UserID]int) map[id.UserID]int {
	out := make(map[id.UserID]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
