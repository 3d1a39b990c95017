package licensing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// GraphLink is a customer's link to a graph provider instance: the
// Microsoft 365 (Entra) tenant whose users and subscriptions are the
// customer's under that instance.
type GraphLink struct {
	Tenant            string
	Customer          Customer
	Instance          ProviderInstance
	MicrosoftTenantID uuid.UUID
}

// MirroredUser is a directory user as the mirror keeps it: the user, its
// usage location and the SKUs it holds under the link's instance.
type MirroredUser struct {
	User
	UsageLocation string
	SKUs          []uuid.UUID
}

// SyncState is what the mirror remembers of a link's last sync.
type SyncState struct {
	// DeltaLink continues the users delta where the last pass ended; empty
	// means the next pass is a full one.
	DeltaLink string
	// SyncedAt is when the last pass ended (zero: never).
	SyncedAt time.Time
}

// Mirror is the store's copy of remote directories (Microsoft Graph): the
// links of customers to graph instances and, per link, the users, their
// assignments and the subscribed SKUs, kept in the same tables as the local
// directory so that the users list and the customer's licenses read them as
// they read local data. Every method is one atomic commit.
type Mirror interface {
	// GraphLinks returns every link of every tenant, ordered by tenant,
	// customer and instance (what a sync pass walks).
	GraphLinks(ctx context.Context) ([]GraphLink, error)
	// GraphLink returns the customer's link to the instance, or NotFound
	// (also when the customer or instance is not the tenant's). Every
	// method taking a link checks it exists the same way, in its commit.
	GraphLink(ctx context.Context, tenant string, customerID, instanceID uuid.UUID) (GraphLink, error)
	// MirrorLicenses makes the customer's licenses under the instance
	// exactly these (SKU, name, total, suspended; Consumed is ignored): new
	// ones are added, changed ones updated, missing ones deleted with their
	// assignments. A SKU listed twice or a negative count is Invalid.
	MirrorLicenses(ctx context.Context, link GraphLink, licenses []License) error
	// MirrorUsers adds or updates the users, records them as seen by the
	// link's mirror now (on the store's clock), and makes each one's
	// assignments under the instance exactly its SKUs (SKUs without a
	// mirrored license are ignored); then it deletes the users in removed
	// with all their assignments. A user id that belongs to another
	// customer is Conflict and nothing is written. Ids listed twice keep
	// the last entry. A pass of many pages calls it once per page.
	MirrorUsers(ctx context.Context, link GraphLink, users []MirroredUser, removed []uuid.UUID) error
	// PruneUsers ends a full pass: it deletes the customer's users that
	// MirrorUsers of this link has not written since seenSince (a time on
	// the store's clock taken before the pass began), with all their
	// assignments, and returns how many it deleted. That includes users
	// imported before the customer was linked (the import refuses users
	// for a linked customer, so they are leftovers of its local days), but
	// not those another link of the customer mirrors. Audit records name
	// users without referencing them, so they stay.
	PruneUsers(ctx context.Context, link GraphLink, seenSince time.Time) (int, error)
	// MirroredUser returns a user of the link's customer as the mirror
	// keeps it, with the SKUs it holds under the link's instance, or
	// NotFound.
	MirroredUser(ctx context.Context, link GraphLink, userID uuid.UUID) (MirroredUser, error)
	// SyncState returns the link's sync state (zero when never synced).
	// SyncedAt is kept to the microsecond, in UTC.
	SyncState(ctx context.Context, link GraphLink) (SyncState, error)
	// SetSyncState records the link's sync state.
	SetSyncState(ctx context.Context, link GraphLink, s SyncState) error
	// SetAuditStatus moves the tenant's records with these ids that are
	// still Processing to status (Succeded or Failed, anything else is
	// Invalid), with the reason (empty for Succeded). Records already
	// resolved keep their first outcome; unknown ids are ignored.
	SetAuditStatus(ctx context.Context, tenant string, ids []uuid.UUID, status Status, reason string) error
	// ProcessingRecords returns the link's records still Processing,
	// oldest first: attempts whose outcome a crash left unknown.
	ProcessingRecords(ctx context.Context, link GraphLink) ([]AuditRecord, error)
}

// RemoteDirectory is a directory outside the store — Microsoft Graph —
// chosen for provider instances whose Directory is DirectoryGraph. Its
// ApplyUserLicenses keeps the Directory contract's outcome (all or nothing,
// every refused SKU named) with a different promise: the decision is made
// on state freshly read from the remote directory, the changes are applied
// there in one call, and their audit records are written Processing before
// that call and become Succeded or Failed after it (the remote directory,
// not a lock of ours, stays the authority on seats; a record a crash left
// Processing is resolved by the next sync).
type RemoteDirectory interface {
	Directory
	// CheckLink answers NotFound, naming providerInstanceId, when the
	// customer has no link to the graph instance.
	CheckLink(ctx context.Context, tenant string, customerID uuid.UUID, pi ProviderInstance) error
	// FindUser looks up a user the mirror lacks in the remote directory,
	// mirrors it and returns it; NotFound naming customerUserId otherwise.
	FindUser(ctx context.Context, ref UserRef) (User, error)
}

// SKURefusal is a remote directory's refusal of some SKUs of an update for
// a reason of its own (conflicting or dependent service plans); the service
// names the items that carry them.
type SKURefusal struct {
	SKUs   []uuid.UUID
	Reason string
}

func (e *SKURefusal) Error() string { return "refused SKUs: " + e.Reason }

// audited marks a refusal whose audit records the directory has written
// itself (Processing → Failed), so that the service does not add its own.
type audited struct{ error }

func (a audited) Unwrap() error { return a.error }

// Audited marks err as already audited.
func Audited(err error) error { return audited{err} }

// IsAudited reports whether err was marked by Audited.
func IsAudited(err error) bool {
	var a audited
	return errors.As(err, &a)
}

// CheckMirroredLicenses is what every store checks before MirrorLicenses
// writes: each SKU once, no negative count.
func CheckMirroredLicenses(ls []License) error {
	e := Errorf(Invalid, "the mirrored licenses are not consistent; nothing was written")
	seen := make(map[uuid.UUID]int, len(ls))
	for i, l := range ls {
		p := fmt.Sprintf("licenses[%d]", i)
		if first, dup := seen[l.SKUID]; dup {
			e.Add(p+".skuId", "SKU %s is listed twice (first at licenses[%d])", l.SKUID, first)
		}
		seen[l.SKUID] = i
		if l.Total < 0 {
			e.Add(p+".totalLicenses", "must be 0 or more")
		}
		if l.Suspended < 0 {
			e.Add(p+".suspendedLicenses", "must be 0 or more")
		}
	}
	if len(e.Properties) > 0 {
		return e
	}
	return nil
}

// LastPerUser returns the users with each id once, its last entry kept, in
// the order of first appearance (a page of Graph's delta may list a user
// twice; a single upsert statement may not touch a row twice).
func LastPerUser(users []MirroredUser) []MirroredUser {
	at := make(map[uuid.UUID]int, len(users))
	out := make([]MirroredUser, 0, len(users))
	for _, u := range users {
		if i, dup := at[u.ID]; dup {
			out[i] = u
			continue
		}
		at[u.ID] = len(out)
		out = append(out, u)
	}
	return out
}

// ForeignUsers is the Conflict of MirrorUsers given ids of users that
// belong to another customer (two customers linked to one Entra tenant).
func ForeignUsers(customerID uuid.UUID, ids []uuid.UUID) error {
	shown := make([]string, 0, 3)
	for _, id := range ids[:min(3, len(ids))] {
		shown = append(shown, id.String())
	}
	more := ""
	if len(ids) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(ids)-len(shown))
	}
	return Errorf(Conflict, "%d mirrored users belong to another customer than %s (%s%s): is another customer linked to the same Microsoft tenant?",
		len(ids), customerID, strings.Join(shown, ", "), more)
}

// CheckOutcome accepts the statuses SetAuditStatus may set: the outcomes
// of a Processing record.
func CheckOutcome(s Status) error {
	if s != StatusSucceeded && s != StatusFailed {
		return Errorf(Invalid, "an audit record leaves Processing for %s or %s, not %q", StatusSucceeded, StatusFailed, s)
	}
	return nil
}
