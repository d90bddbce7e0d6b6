using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using OpsRobot.Chat.Shell;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// SSH on many hosts through the whole product: a real server with the shipped ssh pack, the built-in CMDB mapping
/// three host names to one real OpenSSH server on loopback, the key as a datastore secret, host keys trusted by an
/// administrator from chat, and a member of one application node asking from chat. Each selected host must be in
/// a node the asker belongs to: the hosts of another node are reported as not permitted, never run on.
/// </summary>
public sealed class SshEndToEndTests : IAsyncLifetime
{
    private SshServer _sshd = null!;
    private TestHome _home = null!;
    private RunningServer _server = null!;
    private TempDirectory _out = null!;

    public async Task InitializeAsync()
    {
        _sshd = await SshServer.StartAsync();
        _home = new TestHome();
        Copy(Path.Combine(RepoPaths.Packs, "ssh"), Path.Combine(_home.PacksDir, "ssh"));
        Copy(Path.Combine(RepoPaths.Packs, "deploy"), Path.Combine(_home.PacksDir, "deploy"));
        _out = new TempDirectory("opsrobot-deployed");
        _home.Write("packs/deploy/playbooks/shop.yml", $$$"""
            - name: Deploy {{ app }}
              hosts: all
              gather_facts: false
              tasks:
                - name: Write the version
                  ansible.builtin.copy:
                    dest: "{{{_out.Path}}}/{{ inventory_hostname }}-{{ env }}.version"
                    content: "{{ version }}"
            """);
        _server = await RunningServer.StartAsync(
            new Dictionary<string, string?>
            {
                ["OpsRobot:Ssh:DefaultUser"] = SshServer.User,
                ["OpsRobot:Ssh:DefaultKey"] = "ssh.fleet_key",
                ["OpsRobot:Deploy:Apps:shop:Backend"] = "ansible",
                ["OpsRobot:Deploy:Apps:shop:Playbook"] = "playbooks/shop.yml",
                ["OpsRobot:Deploy:Apps:shop:Node"] = "shop/web",
            },
            _home);
        using var admin = await _server.SignInAsync();
        (await admin.PostAsJsonAsync("/api/v1/users", new { name = "bob", password = "password-for-tests", roles = new[] { "operator" } })).StatusCode.ShouldBe(HttpStatusCode.Created);
        foreach (var path in new[] { "shop", "shop/web", "billing" })
        {
            await OkAsync(admin.PostAsJsonAsync("/api/v1/tree/nodes", new { path }));
        }

        await OkAsync(admin.PutAsJsonAsync("/api/v1/tree/members", new { path = "shop/web", user = "bob", kind = "member" }));
        await OkAsync(admin.PutAsJsonAsync("/api/v1/kv/system/ssh.fleet_key", new { value = _sshd.ClientPrivateKey, secret = true }));
        var csv = "hostname,addresses,environment,application,tags,owner,status,attr.ssh_port\n" +
            $"web01,127.0.0.1,staging,shop/web,,team-shop,active,{_sshd.Port}\n" +
            $"web02,127.0.0.1,staging,shop/web,,team-shop,active,{_sshd.Port}\n" +
            $"pay01,127.0.0.1,prod,billing,,team-billing,active,{_sshd.Port}\n";
        await OkAsync(admin.PostAsJsonAsync("/api/v1/hosts/import?format=csv", new { content = csv }));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _sshd.DisposeAsync();
        _home.Dispose();
        _out.Dispose();
    }

    [Fact]
    public async Task MemberOfANode_RunsOnItsHostsFromChat_AfterTheAdministratorTrustedThem_OtherNodesHostsRefused()
    {
        var untrusted = await ShellAsync("bob", "ssh uptime app shop/web");
        var trust = await ShellAsync("admin", "ssh trust web01", "ssh trust web02", "ssh trust pay01");
        var bobs = await ShellAsync("bob", "ssh uptime app shop/web");
        var foreign = await ShellAsync("bob", "ssh uptime web01,pay01");
        var bobTrusts = await ShellAsync("bob", "ssh trust web01");

        // No silent trust on first use: before the administrator trusted them, the hosts are refused by OpenSSH's rules.
        untrusted.ShouldMatch(@"web01\s+host_key_unknown");
        trust.ShouldContain(_sshd.HostFingerprint);
        bobs.ShouldContain("2 of 2 hosts ok");
        bobs.ShouldMatch(@"web01\s+ok\s+0\s+.*load average");
        bobs.ShouldMatch(@"web02\s+ok\s+0\s+.*load average");
        foreign.ShouldMatch(@"web01\s+ok\s+0");
        foreign.ShouldMatch(@"pay01\s+not_permitted");
        bobTrusts.ShouldNotContain(_sshd.HostFingerprint); // trusting a key is for administrators only
    }

    [Fact]
    public async Task Deploy_FromChat_RunsAnsibleOnTheApplicationsHosts_RecordsIt_AndProductionNeedsSudo()
    {
        await ShellAsync("admin", "ssh trust web01", "ssh trust web02");

        var deployed = await ShellAsync("bob", "deploy shop 1.4.2 to staging");
        var where = await ShellAsync("bob", "deployed shop");
        var production = await ShellAsync("bob", "deploy shop 1.4.3 to prod");

        File.ReadAllText(Path.Combine(_out.Path, "web01-staging.version")).ShouldBe("1.4.2", deployed);
        File.ReadAllText(Path.Combine(_out.Path, "web02-staging.version")).ShouldBe("1.4.2", deployed);
        where.ShouldMatch(@"shop\s+staging\s+1\.4\.2");
        production.ShouldContain("sudo");
        Directory.EnumerateFiles(_out.Path, "*-prod.version").ShouldBeEmpty();
    }

    private async Task<string> ShellAsync(string user, params string[] lines)
    {
        var shell = _server.Host.App.Services.GetRequiredService<ShellChat>();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await shell.RunAsync(new ShellSession(user, "ops", Interactive: false), new StringReader(string.Join('\n', lines.Select(l => "!" + l)) + "\n"), output, error, CancellationToken.None);
        code.ShouldBe(0, error.ToString());
        return output.ToString();
    }

    private static async Task OkAsync(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        response.IsSuccessStatusCode.ShouldBeTrue(await response.Content.ReadAsStringAsync());
    }

    private static void Copy(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
