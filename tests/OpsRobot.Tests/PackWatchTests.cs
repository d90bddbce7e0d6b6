using System.Net;
using System.Net.Http.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>With OpsRobot:Packs:Watch on, editing a pack file reloads the packs by itself.</summary>
public sealed class PackWatchTests
{
    [Fact]
    public async Task Watch_AliasFileEdited_NewFormatMatchesWithoutARestart()
    {
        var home = new TestHome();
        DemoPack.WriteTo(home);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["OpsRobot:Packs:Watch"] = "true" }, home);
        using var admin = await server.SignInAsync();
        (await admin.PostAsJsonAsync("/api/v1/aliases/match", new { text = "holler hi" })).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        File.WriteAllText(Path.Combine(home.PacksDir, "demo", "aliases", "say.yaml"), "name: say\naction_ref: demo.say\nformats: [\"holler {{ message }}\"]\n");

        await ExecutionFlowTests.WaitUntilAsync(async () =>
            (await admin.PostAsJsonAsync("/api/v1/aliases/match", new { text = "holler hi" })).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task NoWatch_ByDefaultOutsideDevelopment_EditsWaitForAReload()
    {
        var home = new TestHome();
        DemoPack.WriteTo(home);
        await using var server = await RunningServer.StartAsync(home: home);
        using var admin = await server.SignInAsync();

        File.WriteAllText(Path.Combine(home.PacksDir, "demo", "aliases", "say.yaml"), "name: say\naction_ref: demo.say\nformats: [\"holler {{ message }}\"]\n");
        await Task.Delay(1500);
        var before = await admin.PostAsJsonAsync("/api/v1/aliases/match", new { text = "holler hi" });
        await admin.PostAsJsonAsync("/api/v1/packs/reload", new { });
        var after = await admin.PostAsJsonAsync("/api/v1/aliases/match", new { text = "holler hi" });

        before.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        after.StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
