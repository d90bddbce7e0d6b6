using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OpsRobot.Cli.Client;
using OpsRobot.Core.Audit;
using OpsRobot.Hosting;

namespace OpsRobot.Cli;

/// <summary>
/// <c>opsrobot audit verify</c> checks the hash chain in the database itself (offline, so it does not trust a
/// server); <c>opsrobot audit list</c> reads records through the API.
/// </summary>
internal static class AuditVerbs
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Add(RootCommand root, Option<string?> data, Func<ParseResult, Dictionary<string, string?>> settings)
    {
        ArgumentNullException.ThrowIfNull(root);
        var verify = new Command("verify",
            "Check the audit trail's hash chain in the database, record by record. Exit 0 when every record fits; "
            + "1 naming the first record that was changed, removed or inserted behind the store's back. Prints the "
            + "number of records and the last hash: keep that somewhere else to detect records cut from the end.")
        {
            data,
        };
        verify.SetAction((r, ct) => VerifyAsync(settings(r), ct));

        var url = new Option<string?>("--url") { Description = $"The OpsRobot server (default: ${OpsRobotClient.UrlVariable}, else {OpsRobotClient.DefaultUrl})", HelpName = "URL" };
        var actor = new Option<string?>("--user") { Description = "Only records of this actor", HelpName = "USER" };
        var kind = new Option<string?>("--kind") { Description = "Only this kind (command, decision, execution.*, tree.changed, …)", HelpName = "KIND" };
        var decision = new Option<string?>("--decision") { Description = "allow or deny", HelpName = "DECISION" };
        decision.AcceptOnlyFromAmong("allow", "deny");
        var since = new Option<string?>("--since") { Description = "Only records at or after this time (ISO 8601)", HelpName = "TIME" };
        var limit = new Option<int?>("--limit") { Description = "At most this many, newest first (1 to 1000; default 50)", HelpName = "N" };
        var json = new Option<bool>("--json") { Description = "Print the records as JSON" };
        var list = new Command("list", "List audit records through the API, newest first (needs audit.view).\n\nExamples:\n  opsrobot audit list --decision deny\n  opsrobot audit list --user alice --kind 'execution.*' --json")
        {
            actor, kind, decision, since, limit, json, url,
        };
        list.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            var query = new List<string>();
            void Add(string name, string? value)
            {
                if (!string.IsNullOrEmpty(value))
                {
                    query.Add($"{name}={Uri.EscapeDataString(value)}");
                }
            }

            Add("actor", r.GetValue(actor));
            Add("kind", r.GetValue(kind));
            Add("decision", r.GetValue(decision));
            Add("since", r.GetValue(since));
            Add("limit", r.GetValue(limit)?.ToString(CultureInfo.InvariantCulture));
            var answer = await client.GetAsync("/api/v1/audit" + (query.Count > 0 ? "?" + string.Join('&', query) : string.Empty), token);
            var records = answer.GetProperty("records");
            if (r.GetValue(json))
            {
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(records, Indented));
                return ExitCodes.Succeeded;
            }

            foreach (var record in records.EnumerateArray())
            {
                string S(string name) => record.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : string.Empty;
                await Console.Out.WriteLineAsync(string.Join("  ", record.GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture), S("at"), S("actor"), S("door"), S("kind"), S("decision"), S("subject"), S("rule")).TrimEnd());
            }

            return ExitCodes.Succeeded;
        }, ct));

        root.Subcommands.Add(new Command("audit", "The audit trail: who did what, through which door, and what was decided.") { verify, list });
    }

    private static async Task<int> VerifyAsync(Dictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        using var host = LocalHost.Build([], settings);
        await Composition.MigrateOnlyAsync(host.Services, cancellationToken);
        var store = host.Services.GetRequiredService<IAuditStore>();
        long lastId = 0;
        var lastHash = AuditChain.Genesis;
        long count = 0;
        while (true)
        {
            var page = await store.ReadAsync(lastId, 5000, cancellationToken);
            if (page.Count == 0)
            {
                break;
            }

            if (AuditChain.FirstBroken(page, lastHash, lastId) is { } broken)
            {
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"opsrobot: the audit trail is broken at record {broken.Record.Id} ({broken.Record.At:O}, {broken.Record.Kind} by {broken.Record.Actor}): {broken.Problem}. Records before it ({count}) are intact."));
                return 1;
            }

            count += page.Count;
            lastId = page[^1].Id;
            lastHash = page[^1].Hash;
        }

        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"The audit trail is intact: {count} records, the last is #{lastId} with hash {lastHash}."));
        return 0;
    }
}
