using OpsRobot.Hosting;
using OpsRobot.Testing;

namespace OpsRobot.Tests;

public sealed class FirstStartTests
{
    [Fact]
    public async Task FirstStart_NoPasswordConfigured_GeneratesOneThatSignsIn_AndSecondStartMakesNone()
    {
        using var home = new TestHome();
        var settings = new Dictionary<string, string?> { ["OpsRobot:Listen"] = "http://127.0.0.1:0" };

        string password;
        await using (var first = await ServerHost.CreateAsync([], new ServerOverrides { Home = home.Path, Settings = settings }, CancellationToken.None))
        {
            first.FirstAdmin.ShouldNotBeNull();
            first.FirstAdmin.Value.UserName.ShouldBe("admin");
            password = first.FirstAdmin.Value.GeneratedPassword!;
            password.Length.ShouldBe(20);
        }

        await using var second = await ServerHost.CreateAsync([], new ServerOverrides { Home = home.Path, Settings = settings }, CancellationToken.None);
        await second.StartAsync(CancellationToken.None);
        second.FirstAdmin.ShouldBeNull();

        using var client = new HttpClient { BaseAddress = new Uri(second.Addresses[0]) };
        var login = await client.PostAsync("/api/v1/auth/login", System.Net.Http.Json.JsonContent.Create(new { userName = "admin", password }));
        login.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        await second.App.StopAsync();
    }

    [Fact]
    public async Task FirstStart_PasswordConfigured_UsesItAndGeneratesNothing()
    {
        using var home = new TestHome();
        var settings = new Dictionary<string, string?>
        {
            ["OpsRobot:Listen"] = "http://127.0.0.1:0",
            ["OpsRobot:Admin:UserName"] = "root-admin",
            ["OpsRobot:Admin:Password"] = "configured-secret-1",
        };

        await using var host = await ServerHost.CreateAsync([], new ServerOverrides { Home = home.Path, Settings = settings }, CancellationToken.None);

        host.FirstAdmin.ShouldNotBeNull();
        host.FirstAdmin.Value.UserName.ShouldBe("root-admin");
        host.FirstAdmin.Value.GeneratedPassword.ShouldBeNull();
    }

    [Fact]
    public async Task Start_CreatesTheDataFolderAndDatabaseUnderHome()
    {
        using var home = new TestHome();

        await using var host = await ServerHost.CreateAsync([], new ServerOverrides
        {
            Home = home.Path,
            Settings = new Dictionary<string, string?> { ["OpsRobot:Listen"] = "http://127.0.0.1:0", ["OpsRobot:Admin:Password"] = "x-password-1" },
        }, CancellationToken.None);

        File.Exists(Path.Combine(home.DataDir, "opsrobot.db")).ShouldBeTrue();
        host.Packs.Packs.Select(p => p.Name).ShouldContain("core");
    }
}
