// Package graphdir is the directory of provider instances whose seats live
// in Microsoft Graph: the user's licenses read from Graph, updates decided
// on fresh Graph state and applied with one assignLicense, audited
// Processing → Succeded/Failed, and a sync that mirrors each linked
// customer's users and subscriptions into the store.
package graphdir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/graph"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// Defaults of Config.
const (
	DefaultTimeout   = 20 * time.Second
	DefaultCountsTTL = 5 * time.Second
)

// Mirror is what the directory needs of the store: the mirror itself and
// the audit log's writes (the Processing records).
type Mirror interface {
	licensing.Mirror
	RecordAudit(ctx context.Context, records []licensing.AuditRecord) error
}

// Config is everything the directory needs; dependencies are passed in.
type Config struct {
	Graph  *graph.Client
	Mirror Mirror
	// Timeout is the budget of one operation's Graph calls, retries
	// included (LICENSES_GRAPH_TIMEOUT).
	Timeout time.Duration
	// CountsTTL is how long subscribed SKUs are reused for reads (the
	// customer's licenses, a user's check boxes); an update always reads
	// them fresh.
	CountsTTL time.Duration
	// Secret reads the app's secret from where the instance says it is;
	// nil reads the environment variable or the file.
	Secret func(app licensing.GraphApp) (string, error)
	Now    func() time.Time
	Logger *slog.Logger
}

// Directory implements licensing.RemoteDirectory over Microsoft Graph.
type Directory struct {
	cfg   Config
	mu    sync.Mutex
	skus  map[uuid.UUID]cachedSKUs // by Microsoft tenant
	clock func() time.Time
}

type cachedSKUs struct {
	at   time.Time
	skus []graph.SubscribedSku
}

var _ licensing.RemoteDirectory = (*Directory)(nil)

// New returns the directory.
func New(cfg Config) *Directory {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.CountsTTL <= 0 {
		cfg.CountsTTL = DefaultCountsTTL
	}
	if cfg.Secret == nil {
		cfg.Secret = ReadSecret
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Directory{cfg: cfg, skus: map[uuid.UUID]cachedSKUs{}, clock: cfg.Now}
	if d.clock == nil {
		d.clock = time.Now
	}
	return d
}

// ReadSecret reads a graph app's secret from its environment variable or
// file (trailing new lines dropped). Errors name where it looked, never a
// value.
func ReadSecret(app licensing.GraphApp) (string, error) {
	switch {
	case app.ClientSecretEnv != "":
		v := os.Getenv(app.ClientSecretEnv)
		if v == "" {
			return "", fmt.Errorf("the environment variable %s (the graph app's clientSecretEnv) is empty or unset", app.ClientSecretEnv)
		}
		return v, nil
	case app.ClientSecretFile != "":
		b, err := os.ReadFile(app.ClientSecretFile)
		if err != nil {
			return "", fmt.Errorf("the graph app's clientSecretFile %s cannot be read", app.ClientSecretFile)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("the graph app's clientSecretFile %s is empty", app.ClientSecretFile)
		}
		return v, nil
	}
	return "", errors.New("the graph instance names no client secret")
}

// link returns the customer's link to the instance, NotFound naming
// providerInstanceId without one.
func (d *Directory) link(ctx context.Context, tenant string, customerID, instanceID uuid.UUID) (licensing.GraphLink, error) {
	l, err := d.cfg.Mirror.GraphLink(ctx, tenant, customerID, instanceID)
	if licensing.ErrorCode(err) == licensing.NotFound {
		return l, licensing.Errorf(licensing.NotFound, "The provider instance was not found.").Add("providerInstanceId",
			"The customer has no Microsoft tenant under provider instance %s.", instanceID)
	}
	return l, err
}

// open returns the customer's link to the instance and the client signed
// in to its Microsoft tenant.
func (d *Directory) open(ctx context.Context, tenant string, customerID, instanceID uuid.UUID) (licensing.GraphLink, *graph.Tenant, error) {
	link, err := d.link(ctx, tenant, customerID, instanceID)
	if err != nil {
		return link, nil, err
	}
	c, err := d.client(link)
	return link, c, err
}

// client signs in to the link's Microsoft tenant as the instance's app.
func (d *Directory) client(link licensing.GraphLink) (*graph.Tenant, error) {
	app := link.Instance.Graph
	if app == nil {
		return nil, licensing.Errorf(licensing.BadGateway, "Provider instance %s has no graph app configured.", link.Instance.ID)
	}
	secret, err := d.cfg.Secret(*app)
	if err != nil {
		d.cfg.Logger.Error("reading a graph app's secret", slog.String("provider_instance_id", link.Instance.ID.String()), slog.String("error", err.Error()))
		return nil, licensing.Errorf(licensing.BadGateway,
			"The partner app's secret for provider instance %s cannot be read on this server; an operator must fix its clientSecretEnv or clientSecretFile.", link.Instance.ID)
	}
	return d.cfg.Graph.Tenant(graph.Credentials{TenantID: link.MicrosoftTenantID, ClientID: app.ClientID, ClientSecret: secret}), nil
}

// budget bounds one operation's Graph calls and tags them with the
// request's correlation id.
func (d *Directory) budget(ctx context.Context, corr uuid.UUID) (context.Context, context.CancelFunc) {
	if corr != uuid.Nil {
		ctx = graph.WithClientRequestID(ctx, corr)
	}
	return context.WithTimeout(ctx, d.cfg.Timeout)
}

// CheckLink implements licensing.RemoteDirectory.
func (d *Directory) CheckLink(ctx context.Context, tenant string, customerID uuid.UUID, pi licensing.ProviderInstance) error {
	_, err := d.link(ctx, tenant, customerID, pi.ID)
	return err
}

// FindUser implements licensing.RemoteDirectory: a user created since the
// last sync is found in Graph and mirrored.
func (d *Directory) FindUser(ctx context.Context, ref licensing.UserRef) (licensing.User, error) {
	link, c, err := d.open(ctx, ref.Tenant, ref.CustomerID, ref.ProviderInstanceID)
	if err != nil {
		return licensing.User{}, err
	}
	ctx, cancel := d.budget(ctx, uuid.Nil)
	defer cancel()
	u, err := c.User(ctx, ref.UserID)
	if err != nil {
		return licensing.User{}, d.graphError(ctx, "reading the user", err, ref.UserID)
	}
	if err := d.cfg.Mirror.MirrorUsers(ctx, link, []licensing.MirroredUser{mirrored(u)}, nil); err != nil {
		return licensing.User{}, err
	}
	return mirrored(u).User, nil
}

// Licenses implements licensing.Directory with Graph's counts (reused for
// CountsTTL).
func (d *Directory) Licenses(ctx context.Context, tenant string, customerID, instanceID uuid.UUID) ([]licensing.License, error) {
	link, c, err := d.open(ctx, tenant, customerID, instanceID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := d.budget(ctx, uuid.Nil)
	defer cancel()
	skus, err := d.subscribedSkus(ctx, c, link, false)
	if err != nil {
		return nil, err
	}
	return Licenses(skus), nil
}

// HeldSKUs implements licensing.Directory: what Graph holds now.
func (d *Directory) HeldSKUs(ctx context.Context, ref licensing.UserRef) (map[uuid.UUID]bool, error) {
	_, c, err := d.open(ctx, ref.Tenant, ref.CustomerID, ref.ProviderInstanceID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := d.budget(ctx, uuid.Nil)
	defer cancel()
	u, err := c.User(ctx, ref.UserID)
	if err != nil {
		return nil, d.graphError(ctx, "reading the user's licenses", err, ref.UserID)
	}
	return held(u), nil
}

func (d *Directory) subscribedSkus(ctx context.Context, c *graph.Tenant, link licensing.GraphLink, fresh bool) ([]graph.SubscribedSku, error) {
	key := link.MicrosoftTenantID
	if !fresh {
		d.mu.Lock()
		cached, ok := d.skus[key]
		d.mu.Unlock()
		if ok && d.clock().Sub(cached.at) < d.cfg.CountsTTL {
			return cached.skus, nil
		}
	}
	skus, err := c.SubscribedSkus(ctx)
	if err != nil {
		return nil, d.graphError(ctx, "reading the subscribed SKUs", err, uuid.Nil)
	}
	d.mu.Lock()
	d.skus[key] = cachedSKUs{at: d.clock(), skus: skus}
	d.mu.Unlock()
	return skus, nil
}

func (d *Directory) forget(link licensing.GraphLink) {
	d.mu.Lock()
	delete(d.skus, link.MicrosoftTenantID)
	d.mu.Unlock()
}

// Licenses are the user-assignable subscriptions as the API counts them:
// total = enabled + warning + suspended + lockedOut, suspended = suspended +
// lockedOut, consumed = consumedUnits, so that available = max(0, enabled +
// warning − consumed) as Partner Center counts it. Sorted by name, then id.
func Licenses(skus []graph.SubscribedSku) []licensing.License {
	out := make([]licensing.License, 0, len(skus))
	for _, s := range skus {
		if !strings.EqualFold(s.AppliesTo, "User") {
			continue
		}
		p := s.PrepaidUnits
		out = append(out, licensing.License{SKUID: s.SkuID, Name: productName(s.SkuPartNumber),
			Total: p.Enabled + p.Warning + p.Suspended + p.LockedOut, Suspended: p.Suspended + p.LockedOut, Consumed: s.ConsumedUnits})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].SKUID.String() < out[j].SKUID.String()
	})
	return out
}

func held(u graph.User) map[uuid.UUID]bool {
	h := make(map[uuid.UUID]bool, len(u.AssignedLicenses))
	for _, l := range u.AssignedLicenses {
		h[l.SkuID] = true
	}
	return h
}

func mirrored(u graph.User) licensing.MirroredUser {
	m := licensing.MirroredUser{User: licensing.User{ID: u.ID, DisplayName: u.DisplayName, UserPrincipalName: u.UserPrincipalName}}
	if u.UsageLocation != nil {
		m.UsageLocation = *u.UsageLocation
	}
	for _, l := range u.AssignedLicenses {
		m.SKUs = append(m.SKUs, l.SkuID)
	}
	return m
}

// graphError turns a Graph failure into the API's answer. Decisions go by
// status and error.code, never by Graph's message; no secret or token is
// ever in the text.
func (d *Directory) graphError(ctx context.Context, what string, err error, user uuid.UUID) error {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		if ctx.Err() != nil {
			return licensing.Wrap(licensing.Unavailable, err, "Microsoft Graph did not answer in time while %s; nothing was changed. Retry after the Retry-After interval.", what)
		}
		return licensing.Wrap(licensing.Internal, err, "An internal error occurred.")
	}
	switch {
	case ge.Token && (ge.Code == "invalid_client" || ge.Code == "unauthorized_client" || ge.Code == "invalid_request"):
		return licensing.Wrap(licensing.BadGateway, err,
			"Microsoft's identity platform refused the partner app's sign-in to the customer's tenant (%s): check the app's client id and secret, and that the app is consented in the customer's tenant (Partner Center application consent under GDAP).", ge.Code)
	case ge.Token && ge.Transient():
		return licensing.Wrap(licensing.Unavailable, err, "Microsoft's identity platform cannot be reached; nothing was changed. Retry after the Retry-After interval.")
	case ge.Token:
		return licensing.Wrap(licensing.BadGateway, err, "Microsoft's identity platform refused the partner app's sign-in (%s).", ge.Code)
	case ge.Status == http.StatusUnauthorized || ge.Status == http.StatusForbidden:
		return licensing.Wrap(licensing.BadGateway, err,
			"Microsoft Graph refused the partner app while %s (%d %s): grant it the application permissions LicenseAssignment.ReadWrite.All, User.Read.All and Organization.Read.All with admin consent in the customer's tenant.", what, ge.Status, ge.Code)
	case ge.Transient():
		e := licensing.Wrap(licensing.Unavailable, err, "Microsoft Graph is throttling or unavailable while %s; nothing was changed. Retry after the Retry-After interval.", what)
		e.RetryAfter = ge.RetryAfter
		return e
	case ge.Status == http.StatusNotFound && user != uuid.Nil:
		return licensing.NotVisible("customerUserId", "user", user)
	}
	return licensing.Wrap(licensing.Internal, err, "An internal error occurred.")
}
