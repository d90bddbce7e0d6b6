using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Alerts;
using OpsRobot.Integrations.Alertmanager;
using OpsRobot.Testing;

namespace OpsRobot.Integrations.Tests.Alertmanager;

/// <summary>The Alertmanager client and alert source against a real <c>prometheus-alertmanager</c>.</summary>
public sealed class AlertmanagerClientTests : IAsyncLifetime
{
    // A real server keeps real time: silences are checked against its clock.
    private readonly TimeProvider _time = TimeProvider.System;
    private AlertmanagerServer _server = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        // Nothing listens on the discard port: the webhook fails quietly, which these tests do not need.
        _server = await AlertmanagerServer.StartAsync(new Uri("http://127.0.0.1:9/hook"));
        _services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _server.DisposeAsync();
    }

    private AlertmanagerClient Client(Uri? url) =>
        new(_services.GetRequiredService<IHttpClientFactory>(), Options.Create(new AlertmanagerOptions { Url = url, Timeout = TimeSpan.FromSeconds(20) }));

    [Fact]
    public async Task Silence_FromTheAlertSource_HasTheAlertsLabelsAsEqualMatchers_AndTheUserAsCreatedBy()
    {
        var client = Client(_server.Address);
        var source = new AlertmanagerAlertSource(client, _time);
        var labels = new Dictionary<string, string> { ["alertname"] = "DiskFull", ["instance"] = "db1:9100", ["severity"] = "critical" };

        var result = await source.SilenceAsync(new AlertReference("fp", "DiskFull", "db1:9100", labels), TimeSpan.FromHours(2), new AlertActor("alice", "web:ops"), "replacing the disk", CancellationToken.None);

        result.Succeeded.ShouldBeTrue(result.Message);
        var silence = (await client.ListSilencesAsync(CancellationToken.None)).ShouldHaveSingleItem();
        silence.Id.ShouldBe(result.ExternalId);
        silence.CreatedBy.ShouldBe("alice");
        silence.Comment.ShouldBe("Silenced from OpsRobot by alice in web:ops: replacing the disk");
        silence.State.ShouldBe("active");
        silence.Matchers.OrderBy(m => m.Name, StringComparer.Ordinal).ShouldBe(
            [new SilenceMatcher("alertname", "DiskFull"), new SilenceMatcher("instance", "db1:9100"), new SilenceMatcher("severity", "critical")]);
        (silence.EndsAt - silence.StartsAt).ShouldBe(TimeSpan.FromHours(2), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task ExpireSilence_EndsIt()
    {
        var client = Client(_server.Address);
        var id = await client.CreateSilenceAsync([new SilenceMatcher("alertname", "X")], _time.GetUtcNow(), _time.GetUtcNow().AddHours(1), "bob", "test", CancellationToken.None);

        await client.ExpireSilenceAsync(id, CancellationToken.None);

        (await client.ListSilencesAsync(CancellationToken.None)).Single(s => s.Id == id).State.ShouldBe("expired");
    }

    [Fact]
    public async Task Ack_SaysWhetherAlertmanagerStillHasTheAlert()
    {
        var client = Client(_server.Address);
        using var http = new HttpClient { BaseAddress = _server.Address };
        (await http.PostAsJsonAsync("api/v2/alerts", new[] { new { labels = new { alertname = "LoadHigh", instance = "web3" } } })).StatusCode.ShouldBe(HttpStatusCode.OK);
        var there = await WaitForAlertAsync(client, "LoadHigh");
        var source = new AlertmanagerAlertSource(client, _time);

        var held = await source.AcknowledgeAsync(new AlertReference(there.Fingerprint, "LoadHigh", "web3", there.Labels), new AlertActor("alice", "web:ops"), null, CancellationToken.None);
        var gone = await source.AcknowledgeAsync(new AlertReference("nope", "Gone", null, new Dictionary<string, string> { ["alertname"] = "Gone" }), new AlertActor("alice", "web:ops"), null, CancellationToken.None);

        held.Succeeded.ShouldBeTrue();
        held.Message.ShouldStartWith("still active there.");
        gone.Message.ShouldStartWith("it no longer has this alert");
    }

    [Fact]
    public async Task RefusedSilence_SaysWhatAlertmanagerAnswered()
    {
        var client = Client(_server.Address);

        var error = await Should.ThrowAsync<AlertmanagerException>(() =>
            client.CreateSilenceAsync([new SilenceMatcher("alertname", "X")], _time.GetUtcNow(), _time.GetUtcNow().AddHours(-1), "bob", "backwards", CancellationToken.None));

        error.Message.ShouldStartWith("Alertmanager answered 400 Bad Request:");
    }

    [Fact]
    public async Task Unreachable_OrUnconfigured_IsASentenceForTheRoom()
    {
        var source = new AlertmanagerAlertSource(Client(new Uri("http://127.0.0.1:9/")), _time);
        var unconfigured = new AlertmanagerAlertSource(Client(null), _time);
        var alert = new AlertReference("fp", "X", null, new Dictionary<string, string> { ["alertname"] = "X" });

        var down = await source.SilenceAsync(alert, TimeSpan.FromHours(1), new AlertActor("alice", "web:ops"), null, CancellationToken.None);
        var none = await unconfigured.SilenceAsync(alert, TimeSpan.FromHours(1), new AlertActor("alice", "web:ops"), null, CancellationToken.None);

        down.Succeeded.ShouldBeFalse();
        down.Message.ShouldStartWith("Could not reach Alertmanager at http://127.0.0.1:9/");
        none.Message.ShouldBe("Alertmanager's address is not configured: set OpsRobot:Alertmanager:Url, or the system key alertmanager.url.");
    }

    [Fact]
    public async Task AlertWithoutLabels_IsNeverSilenced_ForAnEmptySilenceWouldMatchEverything()
    {
        var source = new AlertmanagerAlertSource(Client(_server.Address), _time);

        var result = await source.SilenceAsync(new AlertReference("fp", "X", null, new Dictionary<string, string>()), TimeSpan.FromHours(1), new AlertActor("alice", "web:ops"), null, CancellationToken.None);

        result.Succeeded.ShouldBeFalse();
        (await Client(_server.Address).ListSilencesAsync(CancellationToken.None)).ShouldBeEmpty();
    }

    private static async Task<AlertmanagerAlert> WaitForAlertAsync(AlertmanagerClient client, string name)
    {
        for (var i = 0; i < 200; i++)
        {
            if ((await client.ListAlertsAsync(CancellationToken.None)).FirstOrDefault(a => a.Labels.GetValueOrDefault("alertname") == name) is { } found)
            {
                return found;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Alertmanager never listed {name}.");
    }
}
