using System.Text;
using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Storage;
using OpsRobot.Core.Users;
using OpsRobot.Hosting;
using OpsRobot.Web;

namespace OpsRobot.Cli;

/// <summary><c>opsrobot user add|passwd</c>: manage web sign-in accounts on the store directly.</summary>
internal static class UserVerbs
{
    public static async Task<int> AddAsync(string[] configArgs, IDictionary<string, string?> settings, string name, bool admin, IReadOnlyList<string> roles, CancellationToken cancellationToken)
    {
        if (!UserNames.IsValid(name))
        {
            await Console.Error.WriteLineAsync($"opsrobot: '{name}' is not a valid user name: {UserNames.Rule}.");
            return 2;
        }

        using var host = LocalHost.Build(configArgs, settings);
        await Composition.PrepareAsync(host.Services, NullLogger(host), StartupRecovery.None, cancellationToken);
        var users = host.Services.GetRequiredService<IUserStore>();
        var password = await ReadNewPasswordAsync(cancellationToken);
        if (password is null)
        {
            return 2;
        }

        var access = host.Services.GetRequiredService<AccessService>();
        var known = await access.RolesAsync(cancellationToken);
        foreach (var role in roles)
        {
            if (!known.Any(r => string.Equals(r.Name, role, StringComparison.OrdinalIgnoreCase)))
            {
                await Console.Error.WriteLineAsync($"opsrobot: there is no role '{role}'. Roles: {string.Join(", ", known.Select(r => r.Name))}.");
                return 2;
            }
        }

        try
        {
            var user = await users.CreateAsync(name, name, admin, Accounts.HashPassword(password), cancellationToken);
            var store = host.Services.GetRequiredService<IAccessStore>();
            var time = host.Services.GetRequiredService<TimeProvider>();
            var actor = $"local:{Environment.UserName}";
            foreach (var role in roles)
            {
                await store.AssignRoleAsync(new UserRoleAssignment(user.Id, role.ToLowerInvariant(), actor, time.GetUtcNow()), cancellationToken);
            }

            await access.Audit.WriteAsync(new AuditEntry
            {
                Kind = AuditKinds.UserChanged,
                Actor = actor,
                Door = Doors.Cli,
                Place = "local",
                Subject = user.Name,
                Detail = new System.Text.Json.Nodes.JsonObject
                {
                    ["change"] = "created",
                    ["administrator"] = admin,
                    ["roles"] = new System.Text.Json.Nodes.JsonArray([.. roles.Select(r => (System.Text.Json.Nodes.JsonNode?)System.Text.Json.Nodes.JsonValue.Create(r))]),
                },
            }, cancellationToken);
            var shown = roles.Count == 0 ? $"role {access.Options.DefaultUserRole} (the default)" : $"role{(roles.Count > 1 ? "s" : string.Empty)} {string.Join(", ", roles)}";
            await Console.Out.WriteLineAsync($"Created {(user.IsAdmin ? "administrator" : "user")} '{user.Name}' with {shown}.");
            return 0;
        }
        catch (StoreConflictException ex)
        {
            await Console.Error.WriteLineAsync($"opsrobot: {ex.Message} Use 'opsrobot user passwd {name}' to change its password.");
            return 1;
        }
    }

    public static async Task<int> PasswdAsync(string[] configArgs, IDictionary<string, string?> settings, string name, CancellationToken cancellationToken)
    {
        using var host = LocalHost.Build(configArgs, settings);
        await Composition.PrepareAsync(host.Services, NullLogger(host), StartupRecovery.None, cancellationToken);
        var users = host.Services.GetRequiredService<IUserStore>();
        var user = await users.FindByNameAsync(name, cancellationToken);
        if (user is null)
        {
            await Console.Error.WriteLineAsync($"opsrobot: there is no user named '{name}'. Create it with 'opsrobot user add {name}'.");
            return 1;
        }

        var password = await ReadNewPasswordAsync(cancellationToken);
        if (password is null)
        {
            return 2;
        }

        await users.SetPasswordHashAsync(user.Id, Accounts.HashPassword(password), cancellationToken);
        await host.Services.GetRequiredService<AccessService>().Audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKinds.UserChanged,
            Actor = $"local:{Environment.UserName}",
            Door = Doors.Cli,
            Place = "local",
            Subject = user.Name,
            Detail = new System.Text.Json.Nodes.JsonObject { ["change"] = "password set" },
        }, cancellationToken);
        var paths = host.Services.GetRequiredService<OpsRobotPaths>();
        File.Delete(Path.Combine(paths.DataDir, ServeVerb.PasswordFileName));
        await Console.Out.WriteLineAsync($"Password of '{user.Name}' changed.");
        return 0;
    }

    /// <summary>From a terminal: asked twice, not echoed. From a pipe: the first line.</summary>
    private static async Task<string?> ReadNewPasswordAsync(CancellationToken cancellationToken)
    {
        string? password;
        if (Console.IsInputRedirected)
        {
            password = await Console.In.ReadLineAsync(cancellationToken);
        }
        else
        {
            password = ReadHidden("New password: ");
            if (password != ReadHidden("Again: "))
            {
                await Console.Error.WriteLineAsync("opsrobot: the two passwords differ; nothing changed.");
                return null;
            }
        }

        if (password is null || password.Length < 8 || password.Length > 1024)
        {
            await Console.Error.WriteLineAsync("opsrobot: a password is 8 to 1024 characters; nothing changed.");
            return null;
        }

        return password;
    }

    internal static string ReadHidden(string prompt)
    {
        Console.Error.Write(prompt);
        var sb = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.Error.WriteLine();
                return sb.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (sb.Length > 0)
                {
                    sb.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                sb.Append(key.KeyChar);
            }
        }
    }

    private static ILogger NullLogger(IHost host) => host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OpsRobot.Cli");
}
