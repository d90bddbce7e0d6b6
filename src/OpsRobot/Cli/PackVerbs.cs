using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Aliases;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Templates;
using OpsRobot.Hosting;

namespace OpsRobot.Cli;

/// <summary>
/// Offline pack verbs, for pack authors and CI: <c>packs validate</c>, <c>alias test</c>, <c>alias match</c>.
/// They read files only; no server, no store.
/// </summary>
internal static class PackVerbs
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Add(RootCommand root, Option<string?> packsOption)
    {
        var dir = new Argument<string?>("DIR") { Description = "Packs folder, or one pack's folder (default: the configured packs folder)", Arity = ArgumentArity.ZeroOrOne };
        var validate = new Command("validate", "Check packs without starting anything: every error with file:line:col. Exit 0 when all load, 1 otherwise.") { dir };
        validate.SetAction(r =>
        {
            var configured = Configured.Read();
            return Validate(configured, r.GetValue(dir) ?? configured.PacksDir(r.GetValue(packsOption)));
        });
        var packs = root.Subcommands.FirstOrDefault(c => c.Name == "packs") ?? new Command("packs", "Work with packs.");
        packs.Subcommands.Add(validate);
        if (!root.Subcommands.Contains(packs))
        {
            root.Subcommands.Add(packs);
        }

        var format = new Option<string>("--format") { Description = "The alias format, e.g. \"deploy {{app}} to {{env=staging}}\"", Required = true };
        var text = new Argument<string>("TEXT") { Description = "The chat line to test, without the command prefix" };
        var test = new Command("test", "Print the parameters FORMAT extracts from TEXT as one JSON object (values as typed); exit 1 if it does not match.")
        {
            format, text,
        };
        test.SetAction(r => Test(r.GetValue(format)!, r.GetValue(text)!));

        var line = new Argument<string>("TEXT") { Description = "A chat line, with or without the command prefix" };
        var match = new Command("match", "Tell which alias of the packs a chat line would run, and with what parameters; exit 1 if none.") { line, packsOption };
        match.SetAction(r =>
        {
            var configured = Configured.Read();
            return Match(configured, r.GetValue(line)!, configured.PacksDir(r.GetValue(packsOption)));
        });

        root.Subcommands.Add(new Command("alias", "Test alias formats and find which alias a line runs.") { test, match });
    }

    private static int Validate(Configured configured, string directory)
    {
        var full = Path.GetFullPath(directory);
        var loader = configured.NewLoader();
        PackLoadResult result;
        if (File.Exists(Path.Combine(full, "pack.yaml")))
        {
            var (pack, errors) = loader.LoadOne(full);
            result = new PackLoadResult(pack is null ? [] : [pack], errors);
        }
        else if (Directory.Exists(full))
        {
            result = loader.LoadAll(full);
        }
        else
        {
            Console.Error.WriteLine($"opsrobot: {full} does not exist.");
            return 2;
        }

        foreach (var pack in result.Loaded)
        {
            Console.Out.WriteLine($"ok     {pack.Pack.Name} {pack.Pack.Version}: {pack.Actions.Count} action(s), {pack.Aliases.Count} alias(es)");
        }

        foreach (var error in result.Errors)
        {
            Console.Out.WriteLine($"error  {error}");
        }

        Console.Error.WriteLine(result.Errors.Count == 0
            ? $"{result.Loaded.Count} pack(s) valid."
            : $"{result.Errors.Count} error(s); {result.Loaded.Count} pack(s) valid.");
        return result.Errors.Count == 0 ? 0 : 1;
    }

    private static int Test(string format, string text)
    {
        AliasFormat parsed;
        try
        {
            parsed = AliasFormat.Parse(format);
        }
        catch (AliasFormatException ex)
        {
            Console.Error.WriteLine($"opsrobot: the format does not parse at column {ex.Column}: {ex.Message}");
            return 2;
        }

        AliasMatch? match;
        try
        {
            match = parsed.Match(text);
        }
        catch (AliasFormatException ex)
        {
            Console.Error.WriteLine($"opsrobot: {ex.Message}");
            return 1;
        }

        if (match is null)
        {
            Console.Error.WriteLine($"opsrobot: \"{text}\" does not match the format \"{format}\".");
            return 1;
        }

        var obj = new JsonObject();
        foreach (var (key, value) in match.All)
        {
            obj[key] = value;
        }

        Console.Out.WriteLine(obj.ToJsonString(Json));
        return 0;
    }

    private static int Match(Configured configured, string line, string packsDirectory)
    {
        var result = configured.NewLoader().LoadAll(packsDirectory);
        foreach (var error in result.Errors)
        {
            Console.Error.WriteLine($"warning: pack not loaded: {error}");
        }

        var command = CommandAddressing.TryGetCommand(line, isDirect: true, configured.Robot) ?? line;
        var lookup = AliasIndex.Build(result).Match(command);
        if (lookup.Best is { } best)
        {
            var parameters = new JsonObject();
            foreach (var (key, value) in lookup.Parameters!)
            {
                parameters[key] = value;
            }

            foreach (var (key, value) in best.Alias.ImmutableParameters)
            {
                parameters[key] = value?.DeepClone();
            }

            Console.Out.WriteLine(new JsonObject
            {
                ["alias"] = best.Alias.Ref,
                ["action"] = best.Alias.ActionRef,
                ["format"] = best.Format.Source,
                ["parameters"] = parameters,
            }.ToJsonString(Json));
            return 0;
        }

        if (lookup.Ambiguous.Count > 0)
        {
            Console.Error.WriteLine("opsrobot: the line matches several aliases equally well: " + string.Join(", ", lookup.Ambiguous.Select(c => $"{c.Alias.Ref} (\"{c.Entry.Display}\")")));
            return 1;
        }

        var close = AliasIndex.Build(result).Suggest(command);
        Console.Error.WriteLine(close.Count == 0
            ? "opsrobot: no alias matches that line."
            : "opsrobot: no alias matches that line. Close: " + string.Join(", ", close.Select(c => $"\"{c.Entry.Display}\" ({c.Alias.Ref})")));
        return 1;
    }

    /// <summary>
    /// The configuration as the server reads it (appsettings.json in the home folder, then environment variables),
    /// read once a verb: for the packs folder, the robot's command prefix and name, and the runners.
    /// </summary>
    private sealed class Configured(string home, IConfiguration configuration, OpsRobotSettings settings, RobotOptions robot)
    {
        public RobotOptions Robot => robot;

        public static Configured Read()
        {
            var home = OpsRobotPaths.ResolveHome();
            var configuration = new ConfigurationBuilder()
                .SetBasePath(home)
                .AddJsonFile("appsettings.json", optional: true)
                .AddEnvironmentVariables()
                .Build();
            var (settings, robot) = Composition.LoadSettings(configuration);
            return new Configured(home, configuration, settings, robot);
        }

        /// <summary>The packs folder: <paramref name="option"/> (--packs) when given, else the configured one.</summary>
        public string PacksDir(string? option) => option is not null ? Path.GetFullPath(option) : OpsRobotPaths.Resolve(home, settings).PacksDir;

        public PackLoader NewLoader()
        {
            // The runners as the server composes them (the ssh, deploy and nagios runners need the CMDB, the stores
            // and the datastore), so a pack validates here exactly as it loads there. Nothing is opened: the store is
            // only reached when a runner runs, and validation never runs one.
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddOpsRobot(configuration, OpsRobotPaths.Resolve(home, settings), robot, TimeProvider.System);

            // The provider lives as long as the verb (the process): runners keep what they resolved from it.
            var provider = services.BuildServiceProvider();
            return new PackLoader(new RunnerCatalog(provider.GetServices<IRunner>()), new TemplateRenderer());
        }
    }
}
