package ctl

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/gen"
)

// The API calls licensesctl makes, each with a fresh correlation id that
// it returns with the result or inside the error.

func (a *api) customersPage(ctx context.Context, p gen.GetCustomersParams) (*gen.CustomersPage, error) {
	ed, sent := correlation()
	res, err := a.c.GetCustomersWithResponse(ctx, &p, ed)
	if _, err := answer(http.MethodGet, "/v1/Customers", sent, err, func() (int, []byte, *http.Response) { return res.StatusCode(), res.Body, res.HTTPResponse }); err != nil {
		return nil, err
	}
	return res.JSON200, nil
}

func (a *api) customer(ctx context.Context, id uuid.UUID, reseller *uuid.UUID) (*gen.Customer, error) {
	ed, sent := correlation()
	res, err := a.c.GetCustomerWithResponse(ctx, id, &gen.GetCustomerParams{ResellerId: reseller}, ed)
	if _, err := answer(http.MethodGet, "/v1/Customers/"+id.String(), sent, err, func() (int, []byte, *http.Response) { return res.StatusCode(), res.Body, res.HTTPResponse }); err != nil {
		return nil, err
	}
	return res.JSON200, nil
}

func (a *api) providerInstancesPage(ctx context.Context, p gen.GetProviderInstancesParams) (*gen.ProviderInstancesPage, error) {
	ed, sent := correlation()
	res, err := a.c.GetProviderInstancesWithResponse(ctx, &p, ed)
	if _, err := answer(http.MethodGet, "/v1/Providers/Instances", sent, err, func() (int, []byte, *http.Response) { return res.StatusCode(), res.Body, res.HTTPResponse }); err != nil {
		return nil, err
	}
	return res.JSON200, nil
}

// allProviderInstances follows every page.
func (a *api) allProviderInstances(ctx context.Context) ([]gen.ProviderInstance, error) {
	var out []gen.ProviderInstance
	size := int32(maxPageSize)
	for n := int32(1); ; n++ {
		p, err := a.providerInstancesPage(ctx, gen.GetProviderInstancesParams{PageNumber: &n, PageSize: &size})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if !p.HasNextPage || len(p.Items) == 0 {
			return out, nil
		}
	}
}

func (a *api) customerLicenses(ctx context.Context, customer, instance uuid.UUID, reseller *uuid.UUID) ([]gen.CustomerUserLicense, string, error) {
	ed, sent := correlation()
	res, err := a.c.GetCustomerLicensesWithResponse(ctx, customer, &gen.GetCustomerLicensesParams{ProviderInstanceId: instance, ResellerId: reseller}, ed)
	cid, err := answer(http.MethodGet, "/v1/Customers/"+customer.String()+"/licenses", sent, err, func() (int, []byte, *http.Response) { return res.StatusCode(), res.Body, res.HTTPResponse })
	if err != nil {
		return nil, cid, err
	}
	return *res.JSON200, cid, nil
}

func (a *api) usersPage(ctx context.Context, customer uuid.UUID, p gen.GetCustomerUsersParams) (*gen.CustomerUsersPage, error) {
	ed, sent := correlation()
	res, err := a.c.GetCustomerUsersWithResponse(ctx, customer, &p, ed)
	if _, err := answer(http.MethodGet, "/v1/Customers/"+customer.String()+"/users", sent, err, func() (int, []byte, *http.Response) { return res.StatusCode(), res.Body, res.HTTPResponse }); err != nil {
		return nil, err
	}
	return res.JSON200, nil
}

func (a *api) userLicenses(ctx context.Context, customer, user, instance uuid.UUID) ([]gen.CustomerUserLicense, string, error) {
	ed, sent := correlation()
	res, err := a.c.GetCustomerUserLicensesWithResponse(ctx, customer, user, &gen.GetCustomerUserLicensesParams{ProviderInstanceId: instance}, ed)
	cid, err := answer(http.MethodGet, "/v1/Customers/"+customer.String()+"/users/"+user.String()+"/licenses", sent, err, func() (int, []byte, *http.Response) { return res.StatusCode(), res.Body, res.HTTPResponse })
	if err != nil {
		return nil, cid, err
	}
	return *res.JSON200, cid, nil
}

// patch sends one user's changes; it answers the correlation id either way.
func (a *api) patch(ctx context.Context, customer, user uuid.UUID, b gen.UpdateCustomerUserLicensesRequest) (string, error) {
	ed, sent := correlation()
	res, err := a.c.UpdateCustomerUserLicensesWithResponse(ctx, customer, user, &gen.UpdateCustomerUserLicensesParams{}, b, ed)
	return answer(http.MethodPatch, "/v1/Customers/"+customer.String()+"/users/"+user.String()+"/licenses", sent, err, func() (int, []byte, *http.Response) { return res.StatusCode(), res.Body, res.HTTPResponse })
}

func (a *api) auditPage(ctx context.Context, p gen.GetAuditLogsParams) (*gen.AuditLogsPage, error) {
	ed, sent := correlation()
	res, err := a.c.GetAuditLogsWithResponse(ctx, &p, ed)
	if _, err := answer(http.MethodGet, "/v1/AuditLogs", sent, err, func() (int, []byte, *http.Response) { return res.StatusCode(), res.Body, res.HTTPResponse }); err != nil {
		return nil, err
	}
	return res.JSON200, nil
}

// maxPageSize is the API's largest page, used when following every page.
const maxPageSize = 2000

// allUsers follows every page of a customer's users.
func (a *api) allUsers(ctx context.Context, customer, instance uuid.UUID) ([]gen.CustomerUser, error) {
	var out []gen.CustomerUser
	size := int32(maxPageSize)
	for n := int32(1); ; n++ {
		p, err := a.usersPage(ctx, customer, gen.GetCustomerUsersParams{ProviderInstanceId: instance, PageNumber: &n, PageSize: &size})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if !p.HasNextPage || len(p.Items) == 0 {
			return out, nil
		}
	}
}
