using System.CommandLine;
using OpsRobot.Cli;
using OpsRobot.Hosting;

namespace OpsRobot;

/// <summary>The <c>opsrobot</c> executable: one binary, several verbs.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        NativeHeap.Tune();
        var listen = new Option<string?>("--listen") { Description = "Address to listen on, e.g. http://127.0.0.1:5080 (OpsRobot:Listen)" };
        var data = new Option<string?>("--data") { Description = "Data folder: database, keys (OpsRobot:DataDir, default ./data)" };
        var packs = new Option<string?>("--packs") { Description = "Packs folder (OpsRobot:PacksDir, default ./packs)" };

        var serve = new Command("serve", "Start the server: web chat, API and health on the configured address (the default verb).")
        {
            listen, data, packs,
        };
        // serve and shell build an ASP.NET Core host from what is left of the line (--OpsRobot:Key=value), so only
        // they accept tokens they do not declare, and only in that form (ConfigurationSwitches checks it). Every
        // other verb, and the root when it is not standing in for serve, refuses them: a mistyped --secret must
        // never go unnoticed.
        serve.TreatUnmatchedTokensAsErrors = false;

        var user = new Option<string?>("--user") { Description = "Who is typing (default: your operating-system account)" };
        var room = new Option<string?>("--room") { Description = "Room to talk in (default: your direct conversation with the robot)" };
        var shell = new Command("shell", "Talk to the robot from a terminal or a pipe, on the same packs and store, without a server.")
        {
            user, room, data, packs,
        };
        shell.TreatUnmatchedTokensAsErrors = false;

        var version = new Command("version", "Print the version of OpsRobot.");

        var userName = new Argument<string>("NAME") { Description = "The user's name" };
        var admin = new Option<bool>("--admin") { Description = "Put the user on the administrators' whitelist (they still need a role that grants the administrative permissions, e.g. --role admin)" };
        var roles = new Option<string[]>("--role") { Description = "A role to give the user (repeatable); without one the user has OpsRobot:Access:DefaultUserRole (viewer)", HelpName = "ROLE", AllowMultipleArgumentsPerToken = false };
        var userAdd = new Command("add", "Create a user with a web sign-in password; the password is asked for, or read from the first line of standard input.")
        {
            userName, admin, roles, data,
        };
        var userPasswd = new Command("passwd", "Set a user's password; asked for, or read from standard input.")
        {
            userName, data,
        };
        var users = new Command("user", "Manage web sign-in accounts.") { userAdd, userPasswd };

        var root = new RootCommand("OpsRobot: ChatOps for operations teams. With no verb, 'serve' runs.")
        {
            serve, shell, version, users, listen, data, packs,
        };
        PackVerbs.Add(root, packs);
        Cli.Client.ClientVerbs.Add(root);
        RuleVerbs.Add(root);
        Cli.Client.KvVerbs.Add(root);
        Cli.Client.HostVerbs.Add(root);
        Cli.Client.InquiryVerbs.Add(root);
        Cli.Client.AccessVerbs.Add(root);
        AuditVerbs.Add(root, data, Settings);
        WorkflowVerbs.Add(root);

        Dictionary<string, string?> Settings(ParseResult r)
        {
            var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            if (r.GetValue(listen) is { } l)
            {
                settings["OpsRobot:Listen"] = l;
            }

            if (r.GetValue(data) is { } d)
            {
                settings["OpsRobot:DataDir"] = Path.GetFullPath(d);
            }

            if (r.GetValue(packs) is { } p)
            {
                settings["OpsRobot:PacksDir"] = Path.GetFullPath(p);
            }

            return settings;
        }

        string[] ConfigArgs(ParseResult r) => ConfigurationSwitches.Of(r);

        root.SetAction((r, ct) => Guard(() => ServeVerb.RunAsync(ConfigArgs(r), Settings(r), ct)));
        serve.SetAction((r, ct) => Guard(() => ServeVerb.RunAsync(ConfigArgs(r), Settings(r), ct)));
        shell.SetAction((r, ct) => Guard(() => ShellVerb.RunAsync(ConfigArgs(r), Settings(r), r.GetValue(user), r.GetValue(room), ct)));
        version.SetAction(_ =>
        {
            Console.Out.WriteLine($"opsrobot {Composition.ProductVersion}");
            return 0;
        });
        userAdd.SetAction((r, ct) => Guard(() => UserVerbs.AddAsync([], Settings(r), r.GetValue(userName)!, r.GetValue(admin), r.GetValue(roles) ?? [], ct)));
        userPasswd.SetAction((r, ct) => Guard(() => UserVerbs.PasswdAsync([], Settings(r), r.GetValue(userName)!, ct)));

        var parsed = root.Parse(args);
        if (parsed.CommandResult.Command == root && parsed.UnmatchedTokens.Count > 0 && ConfigurationSwitches.IsSwitch(parsed.UnmatchedTokens[0]))
        {
            // "opsrobot --OpsRobot:Listen=…" is "opsrobot serve --OpsRobot:Listen=…". A bare word there is no
            // setting but a mistyped verb, and the root's own parse already refuses it with the closest verbs.
            parsed = root.Parse(["serve", .. args]);
        }

        if (ParseErrors.AreIn(parsed))
        {
            return await ParseErrors.ReportAsync(parsed, Console.Error);
        }

        // The server stops on SIGTERM and Ctrl+C through its host, which gives running executions StopGrace and waits
        // for them; System.CommandLine's own handler would end the process two seconds after the signal, mid-stop.
        var serving = parsed.CommandResult.Command == root || parsed.CommandResult.Command == serve;
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = serving ? null : TimeSpan.FromSeconds(2) });
    }

    /// <summary>Turns the problems an operator can fix into one clear line on standard error and exit code 2.</summary>
    private static async Task<int> Guard(Func<Task<int>> verb)
    {
        try
        {
            return await verb();
        }
        catch (StartupException ex)
        {
            await Console.Error.WriteLineAsync($"opsrobot: {ex.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
    }
}
