package graphdir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/graph"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// SyncTimeout bounds one customer's sync (a full pass of a large
// directory takes many pages).
const SyncTimeout = 30 * time.Minute

// Result is one sync pass.
type Result struct {
	Customers int
	Users     int
	// Failed are the links that did not sync, with why.
	Failed []Failure
}

// Failure is a link that did not sync.
type Failure struct {
	Link licensing.GraphLink
	Err  error
}

func (f Failure) String() string {
	return fmt.Sprintf("customer %s (%s) under provider instance %s: %v", f.Link.Customer.ID, f.Link.Customer.Name, f.Link.Instance.ID, f.Err)
}

// Err is nil when every link synced, else names those that failed.
func (r Result) Err() error {
	if len(r.Failed) == 0 {
		return nil
	}
	names := make([]string, len(r.Failed))
	for i, f := range r.Failed {
		names[i] = f.String()
	}
	return fmt.Errorf("%d of %d customers did not sync: %s", len(r.Failed), r.Customers, strings.Join(names, "; "))
}

// Sync runs one pass over every link: subscribed SKUs, then users (the
// delta since the last pass, or a full pass when there is none or it
// expired), then the records a crash left Processing, resolved against
// what Graph now holds. A link that fails does not stop the others.
func (d *Directory) Sync(ctx context.Context) (Result, error) {
	links, err := d.cfg.Mirror.GraphLinks(ctx)
	if err != nil {
		return Result{}, err
	}
	res := Result{Customers: len(links)}
	for i, link := range links {
		n, err := d.syncLink(ctx, link)
		res.Users += n
		if err != nil {
			res.Failed = append(res.Failed, Failure{Link: link, Err: err})
			d.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "graph sync: a customer failed", slog.String("customer_id", link.Customer.ID.String()),
				slog.String("provider_instance_id", link.Instance.ID.String()), slog.String("error", err.Error()))
		}
		d.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "graph sync progress", slog.Int("customers_done", i+1), slog.Int("customers_total", len(links)),
			slog.Int("users_seen", res.Users))
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
	}
	return res, nil
}

func (d *Directory) syncLink(ctx context.Context, link licensing.GraphLink) (int, error) {
	c, err := d.client(link)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(graph.WithClientRequestID(ctx, uuid.New()), SyncTimeout)
	defer cancel()
	skus, err := d.subscribedSkus(ctx, c, link, true)
	if err != nil {
		return 0, err
	}
	if err := d.cfg.Mirror.MirrorLicenses(ctx, link, Licenses(skus)); err != nil {
		return 0, err
	}
	st, err := d.cfg.Mirror.SyncState(ctx, link)
	if err != nil {
		return 0, err
	}
	start := d.clock()
	n, next, err := d.delta(ctx, c, link, st.DeltaLink)
	var ge *graph.Error
	if err != nil && st.DeltaLink != "" && errors.As(err, &ge) && ge.Expired() {
		d.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "graph sync: the delta link expired; a full pass follows", slog.String("customer_id", link.Customer.ID.String()))
		st.DeltaLink = ""
		n, next, err = d.delta(ctx, c, link, "")
	}
	if err != nil {
		return n, d.syncError(ctx, err)
	}
	if st.DeltaLink == "" {
		// A full pass listed every user: the others left the directory.
		if _, err := d.cfg.Mirror.PruneUsers(ctx, link, start); err != nil {
			return n, err
		}
	}
	if err := d.cfg.Mirror.SetSyncState(ctx, link, licensing.SyncState{DeltaLink: next, SyncedAt: d.clock()}); err != nil {
		return n, err
	}
	return n, d.resolve(ctx, c, link)
}

func (d *Directory) delta(ctx context.Context, c *graph.Tenant, link licensing.GraphLink, from string) (int, string, error) {
	n := 0
	next, err := c.Delta(ctx, from, func(page []graph.User) error {
		var users []licensing.MirroredUser
		var removed []uuid.UUID
		for _, u := range page {
			if u.Removed != nil {
				removed = append(removed, u.ID)
				continue
			}
			users = append(users, mirrored(u))
		}
		n += len(page)
		return d.cfg.Mirror.MirrorUsers(ctx, link, users, removed)
	})
	return n, next, err
}

func (d *Directory) syncError(ctx context.Context, err error) error {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return d.graphError(ctx, "syncing", err, uuid.Nil)
	}
	return err
}

// resolve settles the link's records left Processing (a crash between the
// record and Graph's answer) against what Graph holds: an assignment that
// Graph shows, or a removal it no longer shows, Succeded; otherwise Failed.
func (d *Directory) resolve(ctx context.Context, c *graph.Tenant, link licensing.GraphLink) error {
	records, err := d.cfg.Mirror.ProcessingRecords(ctx, link)
	if err != nil || len(records) == 0 {
		return err
	}
	users := map[uuid.UUID]map[uuid.UUID]bool{}
	// A request may still be waiting for Graph's answer (here or on
	// another replica): only records older than its whole budget are
	// orphans.
	settled := d.clock().Add(-d.cfg.Timeout - time.Minute)
	for _, r := range records {
		if r.CreatedAt.After(settled) {
			continue
		}
		h, ok := users[r.UserID]
		if !ok {
			u, err := c.User(ctx, r.UserID)
			var ge *graph.Error
			switch {
			case errors.As(err, &ge) && ge.Status == 404:
				h = map[uuid.UUID]bool{}
			case err != nil:
				return d.syncError(ctx, err)
			default:
				h = held(u)
			}
			users[r.UserID] = h
		}
		status, why := licensing.StatusFailed, "Resolved by sync: Microsoft Graph does not show the change."
		if h[r.SKUID] == (r.Operation == licensing.OperationAssign) {
			status, why = licensing.StatusSucceeded, "Resolved by sync: Microsoft Graph shows the change."
		}
		if err := d.cfg.Mirror.SetAuditStatus(ctx, link.Tenant, []uuid.UUID{r.ID}, status, why); err != nil {
			return err
		}
	}
	return nil
}
