package licensing

import (
	"context"
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
	// GraphLink returns the customer's link to the instance, or NotFound.
	GraphLink(ctx context.Context, tenant string, customerID, instanceID uuid.UUID) (GraphLink, error)
	// MirrorLicenses makes the customer's licenses under the instance
	// exactly these (SKU, name, total, suspended; Consumed is ignored): new
	// ones are added, changed ones updated, missing ones deleted with their
	// assignments.
	MirrorLicenses(ctx context.Context, link GraphLink, licenses []License) error
	// MirrorUsers adds or updates the users and makes each one's
	// assignments under the instance exactly its SKUs (SKUs without a
	// mirrored license are ignored); it deletes the users in removed with
	// all their assignments. With full, it also deletes every other user
	// of the customer (a full pass has listed them all).
	MirrorUsers(ctx context.Context, link GraphLink, users []MirroredUser, removed []uuid.UUID, full bool) error
	// SyncState returns the link's sync state (zero when never synced).
	SyncState(ctx context.Context, link GraphLink) (SyncState, error)
	// SetSyncState records the link's sync state.
	SetSyncState(ctx context.Context, link GraphLink, s SyncState) error
	// SetAuditStatus moves the tenant's records with these ids to the
	// status, with the reason (empty for Succeded).
	SetAuditStatus(ctx context.Context, tenant string, ids []uuid.UUID, status Status, reason string) error
	// ProcessingRecords returns the link's records still Processing,
	// oldest first: attempts whose outcome a crash left unknown.
	ProcessingRecords(ctx context.Context, link GraphLink) ([]AuditRecord, error)
}
