namespace OpsRobot.Core.Cmdb;

/// <summary>Where the hosts come from.</summary>
public enum CmdbSource
{
    /// <summary>OpsRobot's own store: hosts are added, imported and changed through OpsRobot.</summary>
    Builtin,

    /// <summary>A team's existing CMDB over HTTP, read-only: OpsRobot reads hosts there and changes nothing.</summary>
    Http,
}

/// <summary>The CMDB's settings (<c>OpsRobot:Cmdb</c>).</summary>
public sealed class CmdbOptions
{
    /// <summary><c>builtin</c> (default) or <c>http</c>.</summary>
    public CmdbSource Source { get; set; } = CmdbSource.Builtin;

    /// <summary>Rows per page of <c>!hosts</c>.</summary>
    public int ChatPageSize { get; set; } = 20;

    /// <summary>The most hosts one import may carry; a bigger file is refused before anything is read further.</summary>
    public int MaxImportHosts { get; set; } = 50_000;

    /// <summary>The HTTP connector, used when <see cref="Source"/> is <see cref="CmdbSource.Http"/>.</summary>
    public HttpCmdbOptions Http { get; set; } = new();
}

/// <summary>
/// How to read hosts from a team's CMDB over HTTP: where, with which credentials, and how its JSON maps onto
/// <see cref="HostRecord"/>. Templates hold <c>{hostname}</c>, <c>{name}</c>, <c>{application}</c>,
/// <c>{environment}</c>, <c>{status}</c>, <c>{owner}</c>, <c>{tags}</c>; each value is URL-encoded.
/// </summary>
public sealed class HttpCmdbOptions
{
    /// <summary>The CMDB's base URL, <c>https://cmdb.example.com/</c>; the templates are relative to it.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>The path of one host, <c>api/hosts/{hostname}</c>. A 404 there means "no such host".</summary>
    public string FindTemplate { get; set; } = "hosts/{hostname}";

    /// <summary>The path of a search, <c>api/hosts?app={application}&amp;env={environment}</c>. OpsRobot filters the answer again, so a CMDB that ignores a filter is still answered right.</summary>
    public string QueryTemplate { get; set; } = "hosts?name={name}&application={application}&environment={environment}&status={status}&owner={owner}&tags={tags}";

    /// <summary>Dotted path to the host object in the find answer; empty: the answer is the host.</summary>
    public string FindResultPath { get; set; } = string.Empty;

    /// <summary>Dotted path to the array of hosts in the query answer; empty: the answer is the array.</summary>
    public string QueryResultPath { get; set; } = string.Empty;

    /// <summary>The header that carries the credential (<c>Authorization</c>, <c>X-Api-Key</c>); empty: none.</summary>
    public string AuthHeader { get; set; } = string.Empty;

    /// <summary>Put before the secret in the header (<c>Bearer </c>, <c>Token </c>).</summary>
    public string AuthPrefix { get; set; } = string.Empty;

    /// <summary>The name of a system datastore key (a secret) holding the credential; never written in configuration.</summary>
    public string AuthSecretKey { get; set; } = string.Empty;

    /// <summary>Where each field of <see cref="HostRecord"/> is in a remote host object, as dotted paths.</summary>
    public HttpCmdbFieldMap Fields { get; set; } = new();

    /// <summary>How long to wait for the CMDB before saying it is slow.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an answer is reused. Zero: never cached. A short cache spares the CMDB when access checks ask about one host repeatedly.</summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest answer read, in bytes; a bigger one is refused rather than filling memory.</summary>
    public int MaxResponseBytes { get; set; } = 16 * 1024 * 1024;
}

/// <summary>Dotted paths (<c>network.ips</c>) into a remote host object, one per field.</summary>
public sealed class HttpCmdbFieldMap
{
    public string Hostname { get; set; } = "hostname";

    /// <summary>An array of strings, or one string (comma or semicolon separated).</summary>
    public string Addresses { get; set; } = "addresses";

    public string Environment { get; set; } = "environment";

    public string Application { get; set; } = "application";

    public string Tags { get; set; } = "tags";

    public string Owner { get; set; } = "owner";

    public string Status { get; set; } = "status";

    /// <summary>An object whose scalar members become attributes.</summary>
    public string Attributes { get; set; } = "attributes";
}
