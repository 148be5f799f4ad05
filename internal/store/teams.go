package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RoleOwner is the membership role a client must always keep one holder
// of; the store enforces it in MemberSet, MemberRemove and UserDelete.
const RoleOwner = "owner"

// ErrLastOwner refuses a change that would leave a client without an
// owner. It matches ErrConflict with errors.Is.
var ErrLastOwner = fmt.Errorf("%w: a client must keep at least one owner", ErrConflict)

// LastOwnerError refuses deleting a user who is the only owner of clients.
// It matches ErrLastOwner and ErrConflict with errors.Is.
type LastOwnerError struct {
	// ClientIDs are the clients the user is the only owner of, sorted.
	ClientIDs []string
}

func (e *LastOwnerError) Error() string {
	return "user is the only owner of clients: " + strings.Join(e.ClientIDs, ", ")
}

// Is makes errors.Is(err, ErrLastOwner) and errors.Is(err, ErrConflict) true.
func (e *LastOwnerError) Is(target error) bool {
	return target == ErrLastOwner || target == ErrConflict
}

// ClientInUseError refuses deleting a client that still owns resources.
// It matches ErrConflict with errors.Is.
type ClientInUseError struct {
	Credentials, Targets, Proxies int
}

func (e *ClientInUseError) Error() string {
	return fmt.Sprintf("client still owns %d credentials, %d targets and %d proxies", e.Credentials, e.Targets, e.Proxies)
}

// Is makes errors.Is(err, ErrConflict) true for a ClientInUseError.
func (e *ClientInUseError) Is(target error) bool { return target == ErrConflict }

// Invite is a one-time, expiring invitation into a client. Only the keyed
// hash of its token is stored.
type Invite struct {
	ID       string
	ClientID string
	// TokenHash is the keyed hash of the invite token, the lookup key.
	TokenHash []byte
	// Email and Name say whom the invite is for (either may be empty);
	// Name is the suggested user name.
	Email string
	Name  string
	Roles []string
	// CreatedBy is the inviting user's id.
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	// AcceptedAt and AcceptedBy are set once the invite is used.
	AcceptedAt *time.Time
	AcceptedBy string
}

// InviteAcceptParams use an invite: in one transaction the invite is
// marked accepted (it must be unused and unexpired at Now), NewUser is
// created when not nil, and Membership is inserted.
type InviteAcceptParams struct {
	TokenHash []byte
	Now       time.Time
	// NewUser is created first when the invite creates an account.
	NewUser *User
	// NewToken is created for NewUser when not nil.
	NewToken *Token
	// Membership joins the user to the invite's client; its ClientID and
	// Roles are taken from the invite.
	Membership Membership
}

// Teams stores what multi-tenancy adds to clients and users: guarded
// membership changes, client deletion, invites and the audit log.
type Teams interface {
	Audit

	// ClientCreateOwned creates a client with its first owner in one
	// transaction.
	ClientCreateOwned(ctx context.Context, c Client, owner Membership) error
	// ClientDelete deletes a client with its memberships and invites; it
	// refuses with *ClientInUseError while the client owns credentials,
	// targets or proxies. Audit entries are kept.
	ClientDelete(ctx context.Context, id string) error

	// MemberSet creates or replaces a membership, refusing with
	// ErrLastOwner when it would leave the client without an owner.
	MemberSet(ctx context.Context, m Membership) error
	// MemberRemove deletes a membership, refusing with ErrLastOwner for the
	// last owner; ErrNotFound when there is none.
	MemberRemove(ctx context.Context, clientID, userID string) error

	// UserDelete deletes a user with their tokens and memberships; it
	// refuses with *LastOwnerError while they are the only owner of a client.
	UserDelete(ctx context.Context, id string) error
	// TokenDeleteOthers revokes every token of userID except keepID ("" keeps
	// none) and reports how many it deleted.
	TokenDeleteOthers(ctx context.Context, userID, keepID string) (int, error)

	InviteCreate(ctx context.Context, inv Invite) error
	// InviteGetByHash finds an invite by the keyed hash of its token.
	InviteGetByHash(ctx context.Context, hash []byte) (Invite, error)
	// InviteList lists a client's invites, newest first.
	InviteList(ctx context.Context, clientID string) ([]Invite, error)
	// InviteDelete revokes an invite of clientID.
	InviteDelete(ctx context.Context, clientID, id string) error
	// InviteAccept uses an invite; see InviteAcceptParams. An unknown,
	// used or expired invite is ErrNotFound; a user already in the client,
	// or a taken user name, is ErrConflict.
	InviteAccept(ctx context.Context, p InviteAcceptParams) (Invite, error)
}
