using OpsRobot.Core.Users;

namespace OpsRobot.Core.Access;

/// <summary>Through which door a request came.</summary>
public static class Doors
{
    public const string Chat = "chat";
    public const string Api = "api";
    public const string Cli = "cli";
    public const string Rule = "rule";
    public const string Workflow = "workflow";
    public const string System = "system";
}

/// <summary>
/// Who is asking, as access control sees them: the user (or none, for a chat identity linked to nobody), the
/// roles in force, whether they are on the administrators' whitelist, and the door and place of the request.
/// </summary>
public sealed record Principal
{
    /// <summary>The user's name, or a label for an unlinked identity (<c>irc:nick</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The user, or null for a chat identity that is linked to no user.</summary>
    public UserRecord? User { get; init; }

    public required IReadOnlyList<Role> Roles { get; init; }

    /// <summary>On the administrators' whitelist: may run administrative commands (given the grants).</summary>
    public bool IsAdministrator { get; init; }

    public required string Door { get; init; }

    /// <summary>The chat platform, for requests from chat.</summary>
    public string? Platform { get; init; }

    /// <summary>The platform's user id, for requests from chat.</summary>
    public string? PlatformUserId { get; init; }

    /// <summary>The room (<c>platform:room</c>) or the address the request came from.</summary>
    public string? Place { get; init; }

    /// <summary>An API key's scope: the request may use only what both these grants and the roles allow.</summary>
    public IReadOnlyList<Grant>? KeyScope { get; init; }

    /// <summary>The API key or token used, for the audit.</summary>
    public long? ApiKeyId { get; init; }

    /// <summary>True when <see cref="ApiKeyId"/> is a bearer token from signing in, not an API key someone made.</summary>
    public bool IsBearerToken { get; init; }

    /// <summary>
    /// The credential of the request for an audit record's detail, named for what it is: <c>api_key_id</c> or
    /// <c>token_id</c>; nothing for a session or a chat line.
    /// </summary>
    public void DescribeCredential(System.Text.Json.Nodes.JsonObject detail)
    {
        ArgumentNullException.ThrowIfNull(detail);
        if (ApiKeyId is { } id)
        {
            detail[IsBearerToken ? "token_id" : "api_key_id"] = id;
        }
    }

    /// <summary>
    /// Acts on every node of the application tree its grants cover, without membership: rules, whose actions are
    /// configuration written by pack authors. Never set for people.
    /// </summary>
    public bool TreeWide { get; init; }

    public bool IsLinked => User is not null;
}
