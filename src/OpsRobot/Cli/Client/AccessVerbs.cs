using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Cli.Client;

/// <summary>
/// The access-control verbs that talk to a server: <c>login</c>, <c>logout</c>, <c>whoami</c>, <c>apikey</c>,
/// <c>role</c>, <c>tree</c> and <c>identity</c>. Each is authorized by the server exactly like the same change made
/// in chat, and audited there.
/// </summary>
internal static class AccessVerbs
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Add(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var url = new Option<string?>("--url") { Description = $"The OpsRobot server (default: ${OpsRobotClient.UrlVariable}, else {OpsRobotClient.DefaultUrl})", HelpName = "URL" };
        root.Subcommands.Add(Login(url));
        root.Subcommands.Add(Logout(url));
        root.Subcommands.Add(WhoAmI(url));
        root.Subcommands.Add(ApiKey(url));
        root.Subcommands.Add(RoleVerb(url));
        root.Subcommands.Add(TreeVerb(url));
        root.Subcommands.Add(IdentityVerb(url));
    }

    private static Command Login(Option<string?> url)
    {
        var user = new Option<string?>("--user") { Description = "Your OpsRobot user name (default: your operating-system account)", HelpName = "NAME" };
        var login = new Command("login",
            "Sign in with your password and keep a bearer token for the other verbs, in ~/.config/opsrobot/credentials.json "
            + "(mode 0600; $OPSROBOT_CREDENTIALS to choose another file). The password is asked for, or read from the first "
            + "line of standard input. Tokens expire (OpsRobot:Access:TokenLifetime, 12 hours by default).")
        {
            user, url,
        };
        login.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            var name = r.GetValue(user) ?? Environment.UserName;
            var password = Console.IsInputRedirected ? await Console.In.ReadLineAsync(token) : UserVerbs.ReadHidden($"Password for {name}: ");
            if (string.IsNullOrEmpty(password))
            {
                throw new ClientUsageException("no password given.");
            }

            var answer = await client.PostAsync("/api/v1/auth/token", new JsonObject
            {
                ["userName"] = name,
                ["password"] = password,
                ["name"] = $"opsrobot login on {Environment.MachineName}",
            }, token);
            var expires = answer.TryGetProperty("expiresAt", out var e) && e.ValueKind == JsonValueKind.String ? e.GetDateTimeOffset() : (DateTimeOffset?)null;
            Credentials.Save(client.BaseAddress, answer.GetProperty("token").GetString()!, answer.GetProperty("user").GetString()!, expires, answer.GetProperty("id").GetInt64());
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Signed in to {client.DisplayAddress} as {answer.GetProperty("user").GetString()}{(expires is { } x ? $" until {x.UtcDateTime:yyyy-MM-dd HH:mm} UTC" : string.Empty)}."));
            return ExitCodes.Succeeded;
        }, ct));
        return login;
    }

    private static Command Logout(Option<string?> url)
    {
        var logout = new Command("logout", "Revoke the token 'opsrobot login' saved for the server, and forget it.") { url };
        logout.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            var (removed, id) = Credentials.Remove(client.BaseAddress);
            if (!removed)
            {
                await Console.Out.WriteLineAsync($"Not signed in to {client.DisplayAddress}.");
                return ExitCodes.Succeeded;
            }

            if (id is { } tokenId)
            {
                try
                {
                    await client.SendAsync(HttpMethod.Delete, $"/api/v1/apikeys/{tokenId.ToString(CultureInfo.InvariantCulture)}", null, token);
                }
                catch (ClientException)
                {
                    // Expired or revoked already: forgetting it is all that is left to do.
                }
            }

            await Console.Out.WriteLineAsync($"Signed out of {client.DisplayAddress}.");
            return ExitCodes.Succeeded;
        }, ct));
        return logout;
    }

    private static Command WhoAmI(Option<string?> url)
    {
        var whoami = new Command("whoami", "Who the server thinks you are: user, roles, whitelist, linked chat identities, open elevation.") { url };
        whoami.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            await PrintAsync(await client.GetAsync("/api/v1/me/access", token));
            return ExitCodes.Succeeded;
        }, ct));
        return whoami;
    }

    private static Command ApiKey(Option<string?> url)
    {
        var name = new Argument<string>("NAME") { Description = "What the key is for (e.g. 'grafana alerts')" };
        var owner = new Option<string?>("--user") { Description = "Make it for another user (needs apikey.manage and the whitelist)", HelpName = "USER" };
        var expires = new Option<string?>("--expires") { Description = "When it stops working: a time (ISO 8601) or a duration such as 30d, 12h", HelpName = "WHEN" };
        var scope = new Option<string[]>("--scope")
        {
            Description = "Limit the key to PERMISSION[:RESOURCE,...] (repeatable), on top of its owner's rights, e.g. --scope action.execute:nagios.* --scope execution.view",
            HelpName = "GRANT",
        };
        var create = new Command("create", "Make an API key; its secret is printed once and never again. Send it as the X-Api-Key header, or set OPSROBOT_API_KEY.")
        {
            name, owner, expires, scope, url,
        };
        create.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            var body = new JsonObject { ["name"] = r.GetValue(name), ["user"] = r.GetValue(owner) };
            if (r.GetValue(expires) is { } when)
            {
                body["expiresAt"] = ParseWhen(when).ToString("O", CultureInfo.InvariantCulture);
            }

            if (r.GetValue(scope) is { Length: > 0 } grants)
            {
                body["scope"] = new JsonArray([.. grants.Select(ParseGrant)]);
            }

            var answer = await client.PostAsync("/api/v1/apikeys", body, token);
            await Console.Out.WriteLineAsync(answer.GetProperty("secret").GetString());
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"API key #{answer.GetProperty("id").GetInt64()} made. Keep the secret above now: it is not shown again."));
            return ExitCodes.Succeeded;
        }, ct));

        var listUser = new Option<string?>("--user") { Description = "Only this user's keys", HelpName = "USER" };
        var list = new Command("list", "List API keys and tokens (never their secrets): yours, or everyone's with apikey.view.") { listUser, url };
        list.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            var path = "/api/v1/apikeys" + (r.GetValue(listUser) is { } u ? "?user=" + Uri.EscapeDataString(u) : string.Empty);
            await PrintAsync(await client.GetAsync(path, token));
            return ExitCodes.Succeeded;
        }, ct));

        var id = new Argument<long>("ID") { Description = "The key's number (from 'apikey list')" };
        var revoke = new Command("revoke", "Revoke an API key or token at once.") { id, url };
        revoke.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            await client.SendAsync(HttpMethod.Delete, $"/api/v1/apikeys/{r.GetValue(id).ToString(CultureInfo.InvariantCulture)}", null, token);
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"API key #{r.GetValue(id)} revoked."));
            return ExitCodes.Succeeded;
        }, ct));
        return new Command("apikey", "API keys for scripts and other systems.") { create, list, revoke };
    }

    private static Command RoleVerb(Option<string?> url)
    {
        var list = new Command("list", "Every role, where it comes from, and its grants.") { url };
        list.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            await PrintAsync(await client.GetAsync("/api/v1/roles", token));
            return ExitCodes.Succeeded;
        }, ct));

        var user = new Argument<string>("USER") { Description = "The user" };
        var role = new Argument<string>("ROLE") { Description = "The role" };
        var grant = new Command("grant", "Give USER the role ROLE.") { user, role, url };
        grant.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            await client.PostAsync($"/api/v1/users/{Uri.EscapeDataString(r.GetValue(user)!)}/roles", new JsonObject { ["role"] = r.GetValue(role) }, token);
            await Console.Out.WriteLineAsync($"{r.GetValue(user)} now has the role {r.GetValue(role)}.");
            return ExitCodes.Succeeded;
        }, ct));
        var revoke = new Command("revoke", "Take the role ROLE back from USER.") { user, role, url };
        revoke.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            await client.SendAsync(HttpMethod.Delete, $"/api/v1/users/{Uri.EscapeDataString(r.GetValue(user)!)}/roles/{Uri.EscapeDataString(r.GetValue(role)!)}", null, token);
            await Console.Out.WriteLineAsync($"{r.GetValue(user)} no longer has the role {r.GetValue(role)}.");
            return ExitCodes.Succeeded;
        }, ct));

        var file = new Argument<string>("FILE") { Description = "A role file (YAML, as in the roles folder)" };
        var apply = new Command("apply", "Create or replace a role kept in the store from a role file (name, description, grants).") { file, url };
        apply.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            var path = r.GetValue(file)!;
            var (roles, errors) = Core.Access.RoleFiles.LoadFile(path);
            if (errors.Count > 0)
            {
                throw new ClientUsageException(string.Join("; ", errors.Select(e => e.ToString())));
            }

            foreach (var found in roles)
            {
                await client.SendAsync(HttpMethod.Put, $"/api/v1/roles/{Uri.EscapeDataString(found.Name)}", new JsonObject
                {
                    ["description"] = found.Description,
                    ["grants"] = new JsonArray([.. found.Grants.Select(g => (JsonNode)new JsonObject
                    {
                        ["permission"] = g.Permission,
                        ["resources"] = new JsonArray([.. g.Resources.Select(x => (JsonNode?)JsonValue.Create(x))]),
                        ["readOnly"] = g.ReadOnlyOnly,
                    })]),
                }, token);
                await Console.Out.WriteLineAsync($"Role {found.Name} saved.");
            }

            return ExitCodes.Succeeded;
        }, ct));
        return new Command("role", "Roles and who has them.") { list, grant, revoke, apply };
    }

    private static Command TreeVerb(Option<string?> url)
    {
        var show = new Command("show", "The application tree with its owners and members.") { url };
        show.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            foreach (var node in (await client.GetAsync("/api/v1/tree", token)).EnumerateArray())
            {
                var owners = string.Join(", ", node.GetProperty("owners").EnumerateArray().Select(o => o.GetString()));
                var members = string.Join(", ", node.GetProperty("members").EnumerateArray().Select(o => o.GetString()));
                await Console.Out.WriteLineAsync($"{node.GetProperty("path").GetString()}{(owners.Length > 0 ? "  owners: " + owners : string.Empty)}{(members.Length > 0 ? "  members: " + members : string.Empty)}");
            }

            return ExitCodes.Succeeded;
        }, ct));

        var path = new Argument<string>("PATH") { Description = "A node path such as corp/hotel/booking" };
        var add = new Command("add", "Add a node; its parent must exist.") { path, url };
        add.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            await client.PostAsync("/api/v1/tree/nodes", new JsonObject { ["path"] = r.GetValue(path) }, token);
            await Console.Out.WriteLineAsync($"Added {r.GetValue(path)}.");
            return ExitCodes.Succeeded;
        }, ct));

        var user = new Argument<string>("USER") { Description = "The user" };
        Command Place(string verb, string kind, string description)
        {
            var command = new Command(verb, description) { path, user, url };
            command.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
            {
                await client.SendAsync(HttpMethod.Put, "/api/v1/tree/members", new JsonObject { ["path"] = r.GetValue(path), ["user"] = r.GetValue(user), ["kind"] = kind }, token);
                await Console.Out.WriteLineAsync($"{r.GetValue(user)} is now {kind} of {r.GetValue(path)} and everything below it.");
                return ExitCodes.Succeeded;
            }, ct));
            return command;
        }

        var file = new Argument<string>("FILE") { Description = "A JSON or YAML file: nodes: [{path, description, owners: [...], members: [...]}]" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only show what would change" };
        var import = new Command("import", "Import nodes, owners and members from a file. Idempotent: what exists is left alone.") { file, dryRun, url };
        import.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            var document = ReadDocument(r.GetValue(file)!);
            var answer = await client.PostAsync($"/api/v1/tree/import?dryRun={(r.GetValue(dryRun) ? "true" : "false")}", document, token);
            var changes = answer.GetProperty("changes").EnumerateArray().Select(c => c.GetString()).ToList();
            await Console.Out.WriteLineAsync(changes.Count == 0 ? "Nothing to change." : (r.GetValue(dryRun) ? "Would change:\n  " : "Changed:\n  ") + string.Join("\n  ", changes));
            return ExitCodes.Succeeded;
        }, ct));
        return new Command("tree", "The application tree: nodes, owners and members.")
        {
            show, add, Place("owner", "owner", "Make USER an owner of PATH (administrators)."), Place("member", "member", "Make USER a member of PATH (its owners or administrators)."), import,
        };
    }

    private static Command IdentityVerb(Option<string?> url)
    {
        var platform = new Argument<string>("PLATFORM") { Description = "The chat platform: irc, slack, mattermost, rocketchat" };
        var id = new Argument<string>("PLATFORM_USER_ID") { Description = "The platform's immutable user id (on Slack U0123ABCD, not the display name)" };
        var user = new Argument<string>("USER") { Description = "The OpsRobot user" };
        var link = new Command("link", "Link a chat identity to a user (administrators).") { platform, id, user, url };
        link.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            await client.PostAsync("/api/v1/identities", new JsonObject { ["platform"] = r.GetValue(platform), ["platformUserId"] = r.GetValue(id), ["user"] = r.GetValue(user) }, token);
            await Console.Out.WriteLineAsync($"{r.GetValue(platform)}:{r.GetValue(id)} is now {r.GetValue(user)}.");
            return ExitCodes.Succeeded;
        }, ct));
        var unlink = new Command("unlink", "Unlink a chat identity.") { platform, id, url };
        unlink.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, async (client, token) =>
        {
            await client.SendAsync(HttpMethod.Delete, $"/api/v1/identities/{Uri.EscapeDataString(r.GetValue(platform)!)}/{Uri.EscapeDataString(r.GetValue(id)!)}", null, token);
            await Console.Out.WriteLineAsync($"{r.GetValue(platform)}:{r.GetValue(id)} is no longer linked.");
            return ExitCodes.Succeeded;
        }, ct));
        return new Command("identity", "Chat identities linked to users.") { link, unlink };
    }

    private static JsonNode ParseGrant(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var permission = colon < 0 ? text : text[..colon];
        var resources = colon < 0 ? ["*"] : text[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new JsonObject { ["permission"] = permission, ["resources"] = new JsonArray([.. resources.Select(x => (JsonNode?)JsonValue.Create(x))]) };
    }

    private static DateTimeOffset ParseWhen(string text)
    {
        if (text.Length > 1 && long.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            var span = text[^1] switch
            {
                'd' => TimeSpan.FromDays(n),
                'h' => TimeSpan.FromHours(n),
                'm' => TimeSpan.FromMinutes(n),
                _ => (TimeSpan?)null,
            };
            if (span is { } s)
            {
                return TimeProvider.System.GetUtcNow() + s;
            }
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw new ClientUsageException($"'{text}' is not a time (ISO 8601) or a duration like 30d, 12h, 15m.");
    }

    private static JsonNode ReadDocument(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ClientUsageException($"cannot read {path}: {ex.Message}");
        }

        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return JsonNode.Parse(text) ?? new JsonObject();
            }
            catch (JsonException ex)
            {
                throw new ClientUsageException($"{path} is not valid JSON: {ex.Message}");
            }
        }

        var (document, error) = Core.Packs.YamlDocuments.Load(path);
        return document ?? throw new ClientUsageException(error ?? $"{path} is not a YAML mapping.");
    }

    private static async Task PrintAsync(JsonElement element) =>
        await Console.Out.WriteLineAsync(JsonSerializer.Serialize(element, Indented));
}
