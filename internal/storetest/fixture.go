package storetest

import (
	"fmt"

	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
	"github.com/google/uuid"
)

// FixtureIDs names everything Fixture creates, so that tests refer to the
// fixture by meaning rather than by literal uuids. Tenants are given in
// their normalized form, the form the service passes to a store.
type FixtureIDs struct {
	// Tenant is the main portal; its snapshot domain is written in mixed
	// case so that stores are seen to normalize it.
	Tenant string
	// Microsoft and AWS are Tenant's provider instances.
	Microsoft, AWS uuid.UUID

	// Fabrikam is a direct customer of Tenant (no reseller).
	Fabrikam uuid.UUID
	// Northwind is Tenant's customer under reseller Adatum.
	Northwind uuid.UUID
	// Tailspin is Tenant's customer under reseller Litware.
	Tailspin uuid.UUID
	// Adatum and Litware are resellers of Tenant. Adatum's id is reused by
	// a reseller of OtherTenant: reseller ids are not unique across portals.
	Adatum, Litware uuid.UUID
	// AdatumName and LitwareName are the resellers' display names.
	AdatumName, LitwareName string

	// Fabrikam's users. AlanTuring and AlanNamesake share a display name;
	// AlanNamesake has the smaller id although it is listed later.
	Ada, Grace, AlanTuring, AlanNamesake, Barbara, Edsger, Ken uuid.UUID
	// Nora is Northwind's user, Tom is Tailspin's.
	Nora, Tom uuid.UUID

	// SKUs. Under Microsoft, Fabrikam has E3 (10 seats, 1 suspended, held
	// by Ada and Grace), ExchangeP1 (3 seats, all held: Ada, AlanTuring,
	// Barbara), E5 (5 seats, all suspended) and two SKUs both named
	// "Visio Plan 2" (VisioA < VisioB by id, 2 free seats each). Under AWS,
	// Fabrikam has E3 again (4 seats, held by Ken). Northwind has E3
	// (2 seats, held by Nora), Tailspin E3 (1 free seat), Woodgrove E3 (3 seats, held by Wendy).
	E3, E5, ExchangeP1, VisioA, VisioB uuid.UUID

	// OtherTenant is a second portal that must stay invisible from Tenant.
	OtherTenant string
	// OtherMicrosoft is OtherTenant's provider instance.
	OtherMicrosoft uuid.UUID
	// Woodgrove is OtherTenant's customer, under a reseller whose id equals Adatum.
	Woodgrove uuid.UUID
	// Wendy is Woodgrove's user.
	Wendy uuid.UUID
}

// fixedID returns a readable, deterministic uuid: kind tells what it
// names (1 provider instance, 2 customer, 3 user, 4 SKU, 5 reseller,
// 6 correlation), n which one.
func fixedID(kind, n int) uuid.UUID {
	return uuid.MustParse(fmt.Sprintf("%08x-0000-4000-8000-%012x", kind<<28, n))
}

// Fixture returns a realistic snapshot of two portals and the ids in it.
// It passes Snapshot.Validate, and importing it into an empty store is
// what the contract tests start from; end-to-end tests may reuse it. The
// ids are fixed, so importing it twice into one store is harmless.
func Fixture() (licensing.Snapshot, FixtureIDs) {
	ids := FixtureIDs{
		Tenant:         "portal.contoso.test",
		Microsoft:      fixedID(1, 1),
		AWS:            fixedID(1, 2),
		Fabrikam:       fixedID(2, 1),
		Northwind:      fixedID(2, 2),
		Tailspin:       fixedID(2, 3),
		Adatum:         fixedID(5, 1),
		Litware:        fixedID(5, 2),
		AdatumName:     "Adatum Reseller",
		LitwareName:    "Litware Partners",
		Ada:            fixedID(3, 1),
		Grace:          fixedID(3, 2),
		AlanTuring:     fixedID(3, 6),
		AlanNamesake:   fixedID(3, 4),
		Barbara:        fixedID(3, 5),
		Edsger:         fixedID(3, 3),
		Ken:            fixedID(3, 7),
		Nora:           fixedID(3, 8),
		Tom:            fixedID(3, 9),
		E3:             fixedID(4, 3),
		E5:             fixedID(4, 5),
		ExchangeP1:     fixedID(4, 1),
		VisioA:         fixedID(4, 0xa),
		VisioB:         fixedID(4, 0xb),
		OtherTenant:    "portal.woodgrove.test",
		OtherMicrosoft: fixedID(1, 3),
		Woodgrove:      fixedID(2, 4),
		Wendy:          fixedID(3, 10),
	}
	s := func(id uuid.UUID) string { return id.String() }
	lic := func(pi, sku uuid.UUID, name string, total, suspended int32, holders ...uuid.UUID) licensing.SnapshotLicense {
		l := licensing.SnapshotLicense{ProviderInstanceID: s(pi), SKUID: s(sku), Name: name,
			TotalLicenses: total, SuspendedLicenses: suspended, AssignedUserIDs: []string{}}
		for _, h := range holders {
			l.AssignedUserIDs = append(l.AssignedUserIDs, s(h))
		}
		return l
	}
	user := func(id uuid.UUID, name, upn string) licensing.SnapshotUser {
		return licensing.SnapshotUser{ID: s(id), DisplayName: name, UserPrincipalName: upn}
	}
	snap := licensing.Snapshot{Tenants: []licensing.SnapshotTenant{
		{
			Domain: "Portal.Contoso.Test",
			ProviderInstances: []licensing.SnapshotProviderInstance{
				{ID: s(ids.Microsoft), Name: "Contoso CSP", Provider: "microsoft"},
				{ID: s(ids.AWS), Name: "Contoso AWS", Provider: "aws"},
			},
			Customers: []licensing.SnapshotCustomer{
				{
					ID: s(ids.Fabrikam), Name: "Fabrikam",
					Users: []licensing.SnapshotUser{
						user(ids.Ada, "Ada Lovelace", "lovelace@fabrikam.test"),
						user(ids.Grace, "Grace Hopper", "hopper@fabrikam.test"),
						user(ids.AlanTuring, "Alan Turing", "turing@fabrikam.test"),
						user(ids.AlanNamesake, "Alan Turing", "alan@fabrikam.test"),
						user(ids.Barbara, "Barbara Liskov", "liskov@fabrikam.test"),
						user(ids.Edsger, "Edsger Dijkstra", "dijkstra@fabrikam.test"),
						user(ids.Ken, "Ken Thompson", "thompson@fabrikam.test"),
					},
					Licenses: []licensing.SnapshotLicense{
						lic(ids.Microsoft, ids.VisioB, "Visio Plan 2", 2, 0),
						lic(ids.Microsoft, ids.E3, "Microsoft 365 E3", 10, 1, ids.Ada, ids.Grace),
						lic(ids.Microsoft, ids.E5, "Microsoft 365 E5", 5, 5),
						lic(ids.Microsoft, ids.ExchangeP1, "Exchange Online (Plan 1)", 3, 0, ids.Ada, ids.AlanTuring, ids.Barbara),
						lic(ids.Microsoft, ids.VisioA, "Visio Plan 2", 2, 0),
						lic(ids.AWS, ids.E3, "Microsoft 365 E3", 4, 0, ids.Ken),
					},
				},
				{
					ID: s(ids.Northwind), Name: "Northwind Traders", ResellerID: s(ids.Adatum), ResellerName: ids.AdatumName,
					Users:    []licensing.SnapshotUser{user(ids.Nora, "Nora Kim", "nora@northwind.test")},
					Licenses: []licensing.SnapshotLicense{lic(ids.Microsoft, ids.E3, "Microsoft 365 E3", 2, 0, ids.Nora)},
				},
				{
					ID: s(ids.Tailspin), Name: "Tailspin Toys", ResellerID: s(ids.Litware), ResellerName: ids.LitwareName,
					Users:    []licensing.SnapshotUser{user(ids.Tom, "Tom Tailor", "tom@tailspin.test")},
					Licenses: []licensing.SnapshotLicense{lic(ids.Microsoft, ids.E3, "Microsoft 365 E3", 1, 0)},
				},
			},
		},
		{
			Domain: "portal.WOODGROVE.test",
			ProviderInstances: []licensing.SnapshotProviderInstance{
				{ID: s(ids.OtherMicrosoft), Name: "Woodgrove CSP", Provider: "microsoft"},
			},
			Customers: []licensing.SnapshotCustomer{{
				ID: s(ids.Woodgrove), Name: "Woodgrove Bank", ResellerID: s(ids.Adatum), ResellerName: "Adatum Reseller",
				Users:    []licensing.SnapshotUser{user(ids.Wendy, "Wendy Wood", "wendy@woodgrove.test")},
				Licenses: []licensing.SnapshotLicense{lic(ids.OtherMicrosoft, ids.E3, "Microsoft 365 E3", 3, 0, ids.Wendy)},
			}},
		},
	}}
	return snap, ids
}
