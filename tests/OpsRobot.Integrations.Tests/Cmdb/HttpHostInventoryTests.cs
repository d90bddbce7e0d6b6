using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Cmdb;
using OpsRobot.Integrations.Cmdb;
using OpsRobot.Integrations.Secrets;
using OpsRobot.Integrations.Ssh;
using OpsRobot.Integrations.Tests.Support;
using OpsRobot.Testing;

namespace OpsRobot.Integrations.Tests.Cmdb;

/// <summary>The HTTP connector against a CMDB with its own JSON shape on loopback: mapping, filtering, caching, and every failure as a clear sentence.</summary>
public sealed class HttpHostInventoryTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly TestTimeProvider _time = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
    private FakeCmdb _cmdb = null!;

    public async Task InitializeAsync() => _cmdb = await FakeCmdb.StartAsync();

    public async Task DisposeAsync()
    {
        await _cmdb.DisposeAsync();
        await _services.DisposeAsync();
    }

    private HttpHostInventory Inventory(Action<HttpCmdbOptions>? configure = null, string? secret = FakeCmdb.Token, TimeProvider? time = null)
    {
        var http = new HttpCmdbOptions
        {
            BaseUrl = _cmdb.BaseUrl,
            FindTemplate = "hosts/{hostname}",
            QueryTemplate = "hosts?app={application}&env={environment}&name={name}",
            FindResultPath = "data",
            QueryResultPath = "data.items",
            AuthHeader = "X-Token",
            AuthSecretKey = "cmdb_token",
            Fields = new HttpCmdbFieldMap
            {
                Hostname = "name",
                Addresses = "net.ips",
                Environment = "env",
                Application = "app.path",
                Tags = "labels",
                Owner = "team",
                Status = "state",
                Attributes = "facts",
            },
            Timeout = TimeSpan.FromSeconds(30),
            CacheFor = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(http);
        return new HttpHostInventory(_services.GetRequiredService<IHttpClientFactory>(), Options.Create(new CmdbOptions { Source = CmdbSource.Http, Http = http }),
            time ?? _time, new DictionaryKeySource(secret is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["cmdb_token"] = secret }),
            NullLogger<HttpHostInventory>.Instance);
    }

    [Fact]
    public async Task Find_MapsTheRemoteShapeOntoHostRecord()
    {
        var host = await Inventory().FindAsync("WEB01", None);

        host.ShouldNotBeNull();
        host.Hostname.ShouldBe("web01");
        host.Addresses.ShouldBe(["10.0.0.1"]);
        host.Environment.ShouldBe("prod");
        host.Application.ShouldBe("corp/booking");
        host.Tags.ShouldBe(["nginx", "web"]);
        host.Owner.ShouldBe("Booking");
        host.Status.ShouldBe("active");
        host.Attributes.ShouldBe(new Dictionary<string, string>(StringComparer.Ordinal) { ["cpus"] = "4", ["os"] = "debian12" });
    }

    [Fact]
    public async Task Find_Unknown_IsNull_HostileName_NeverSent()
    {
        var inventory = Inventory();

        (await inventory.FindAsync("nosuch", None)).ShouldBeNull();
        var before = _cmdb.Calls;
        (await inventory.FindAsync("../../admin", None)).ShouldBeNull();
        _cmdb.Calls.ShouldBe(before);
    }

    [Fact]
    public async Task Query_FiltersSentUrlEncoded_AndAppliedAgainLocally()
    {
        var hosts = await Inventory().QueryAsync(new HostQuery(Application: "corp/booking", Environment: "prod", Name: "web*&x=1"), None);
        var all = await Inventory().QueryAsync(new HostQuery(Application: "corp/booking", Environment: "prod"), None);

        hosts.ShouldBeEmpty();
        _cmdb.LastQuery.ShouldBe("?app=corp%2Fbooking&env=prod&name=");
        all.Select(h => h.Hostname).ShouldBe(["web01"]); // the fake ignores env; web02 (staging) is filtered here
    }

    [Fact]
    public async Task Query_NamelessRemoteHosts_LeftOut()
    {
        var hosts = await Inventory().QueryAsync(new HostQuery(), None);

        hosts.Select(h => h.Hostname).ShouldBe(["search01", "web01", "web02"]);
    }

    [Fact]
    public async Task Cache_ReusedWithinItsTime_AskedAgainAfter()
    {
        var inventory = Inventory();
        await inventory.FindAsync("web01", None);
        var afterFirst = _cmdb.Calls;

        await inventory.FindAsync("web01", None);
        var cached = _cmdb.Calls;
        _time.Advance(TimeSpan.FromSeconds(31));
        await inventory.FindAsync("web01", None);

        cached.ShouldBe(afterFirst);
        _cmdb.Calls.ShouldBe(afterFirst + 1);
    }

    [Fact]
    public async Task Error500_ClearSentence()
    {
        _cmdb.Mode = "error";

        var ex = await Should.ThrowAsync<CmdbException>(() => Inventory().FindAsync("web01", None));

        ex.Kind.ShouldBe(CmdbErrorKind.Unavailable);
        ex.Message.ShouldBe($"The CMDB at {_cmdb.BaseUrl.GetLeftPart(UriPartial.Authority)} answered 500 Internal Server Error to GET /api/v2/hosts/web01.");
    }

    [Fact]
    public async Task BadJson_ClearSentence()
    {
        _cmdb.Mode = "badjson";

        var ex = await Should.ThrowAsync<CmdbException>(() => Inventory().QueryAsync(new HostQuery(), None));

        ex.Message.ShouldStartWith($"The CMDB at {_cmdb.BaseUrl.GetLeftPart(UriPartial.Authority)} answered with something that is not JSON");
    }

    [Fact]
    public async Task WrongResultPath_SaysWhichSettingToCheck()
    {
        var ex = await Should.ThrowAsync<CmdbException>(() => Inventory(o => o.QueryResultPath = "data.hosts").QueryAsync(new HostQuery(), None));

        ex.Message.ShouldContain("has no array of hosts at 'data.hosts' (OpsRobot:Cmdb:Http:QueryResultPath)");
    }

    [Fact]
    public async Task Slow_TimesOutWithTheLimitNamed()
    {
        _cmdb.Mode = "slow";
        var inventory = Inventory(o => o.Timeout = TimeSpan.FromSeconds(1), time: TimeProvider.System);

        var ex = await Should.ThrowAsync<CmdbException>(() => inventory.FindAsync("web01", None));

        ex.Message.ShouldBe($"The CMDB at {_cmdb.BaseUrl.GetLeftPart(UriPartial.Authority)} did not answer within 1 seconds (OpsRobot:Cmdb:Http:Timeout).");
    }

    [Fact]
    public async Task Down_ClearSentence()
    {
        var nowhere = FakeCmdb.Nowhere();

        var ex = await Should.ThrowAsync<CmdbException>(() => Inventory(o => o.BaseUrl = nowhere).FindAsync("web01", None));

        ex.Message.ShouldStartWith($"The CMDB at {nowhere.GetLeftPart(UriPartial.Authority)} cannot be reached:");
    }

    [Fact]
    public async Task WrongCredential_Refused_MissingSecret_SaysHowToSetIt()
    {
        var wrong = await Should.ThrowAsync<CmdbException>(() => Inventory(secret: "guess").FindAsync("web01", None));
        var missing = await Should.ThrowAsync<CmdbException>(() => Inventory(secret: null).FindAsync("web01", None));

        wrong.Message.ShouldContain("answered 401 Unauthorized");
        wrong.Message.ShouldNotContain("guess");
        missing.Message.ShouldBe("The CMDB's credential cannot be read: there is no system datastore key 'cmdb_token'.");
    }

    [Fact]
    public async Task Credential_ComesFromTheSecretSourceTheSshRunnerUses()
    {
        // AddCmdb and AddSsh register one ISecretSource; it resolves the datastore only when a secret is read (this
        // container has none), so building the HTTP CMDB cannot loop back through access control to the datastore.
        var services = new ServiceCollection().AddLogging().AddCmdb().AddSsh();
        services.Configure<CmdbOptions>(o =>
        {
            o.Source = CmdbSource.Http;
            o.Http = new HttpCmdbOptions { BaseUrl = _cmdb.BaseUrl, FindTemplate = "hosts/{hostname}", AuthHeader = "X-Token", AuthSecretKey = "cmdb_token" };
        });
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false, ValidateScopes = true });

        var inventory = provider.GetRequiredService<HttpHostInventory>();
        var ex = await Should.ThrowAsync<CmdbException>(() => inventory.FindAsync("web01", None));

        provider.GetServices<ISecretSource>().ShouldHaveSingleItem().ShouldBeOfType<DatastoreSecretSource>();
        ex.Message.ShouldBe("The CMDB's credential cannot be read: the datastore is not available in this process, so no key can be read.");
    }

    [Fact]
    public async Task NoBaseUrl_SaysWhatToSet()
    {
        var ex = await Should.ThrowAsync<CmdbException>(() => Inventory(o => o.BaseUrl = null).FindAsync("web01", None));

        ex.Message.ShouldContain("OpsRobot:Cmdb:Http:BaseUrl is not set");
    }

    [Fact]
    public async Task HostDirectory_OverTheConnector_MapsHostsAndFailsClosedWhenDown()
    {
        var up = new InventoryHostDirectory(Inventory(), NullLogger<InventoryHostDirectory>.Instance);
        _cmdb.Mode = "error";
        var down = new InventoryHostDirectory(Inventory(o => o.CacheFor = TimeSpan.Zero), NullLogger<InventoryHostDirectory>.Instance);

        (await down.FindApplicationAsync("web01", None)).ShouldBeNull();
        _cmdb.Mode = "ok";
        (await up.FindApplicationAsync("web01", None)).ShouldBe("corp/booking");
    }

    [Theory]
    [InlineData("placeholders are URL-encoded", "hosts/{hostname}", "a b/c", "hosts/a%20b%2Fc")]
    [InlineData("unknown placeholders stay", "hosts/{nope}", "x", "hosts/{nope}")]
    [InlineData("a leading slash is dropped, so the base path stays", "/hosts/{hostname}", "x", "hosts/x")]
    public void Expand_Templates(string row, string template, string value, string expected)
    {
        HttpHostInventory.Expand(template, new Dictionary<string, string?>(StringComparer.Ordinal) { ["hostname"] = value }).ShouldBe(expected, row);
    }
}
