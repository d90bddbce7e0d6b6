using System.Net;
using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

/// <summary>Who is calling the API, as access control sees them, and from which address.</summary>
internal sealed record ApiCaller(Principal Principal, string? Address)
{
    public string UserName => Principal.Name;
}

/// <summary>
/// Decides who an API call comes from: an <c>X-Api-Key</c> header, an <c>Authorization: Bearer</c> token from
/// <c>opsrobot login</c>, or the web console's session cookie. Nothing else: an unauthenticated call is refused,
/// from wherever it comes (the health check aside). A key that is unknown, revoked or expired is refused the same
/// way as no key at all, and the reason goes to the audit, not to the caller.
/// </summary>
internal static partial class ApiCallers
{
    public const string ApiKeyHeader = "X-Api-Key";

    public static async Task<ApiCaller?> IdentifyAsync(HttpContext http, IUserStore users, CancellationToken cancellationToken)
    {
        if (http.Items.TryGetValue(typeof(ApiCaller), out var known))
        {
            return known as ApiCaller;
        }

        var caller = await AuthenticateAsync(http, users, cancellationToken);
        http.Items[typeof(ApiCaller)] = caller;
        return caller;
    }

    private static async Task<ApiCaller?> AuthenticateAsync(HttpContext http, IUserStore users, CancellationToken cancellationToken)
    {
        var access = http.RequestServices.GetRequiredService<AccessService>();
        var address = http.Connection.RemoteIpAddress?.ToString();
        var door = http.Request.Headers.UserAgent.ToString().StartsWith("opsrobot-cli", StringComparison.Ordinal) ? Doors.Cli : Doors.Api;
        var secret = http.Request.Headers[ApiKeyHeader].ToString();
        if (secret.Length == 0 && http.Request.Headers.Authorization.ToString() is { Length: > 7 } authorization
            && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            secret = authorization[7..].Trim();
        }

        if (secret.Length > 0)
        {
            var (principal, problem) = await access.AuthenticateKeyAsync(secret, door, address, cancellationToken);
            if (principal is null)
            {
                LogKeyRefused(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ApiCallers)), address ?? "?", problem ?? "?");
                await access.Audit.WriteAsync(new AuditEntry
                {
                    Kind = AuditKinds.SignIn,
                    Actor = "(unknown)",
                    Door = door,
                    Place = address,
                    Subject = $"{http.Request.Method} {http.Request.Path}",
                    Decision = "deny",
                    Rule = problem,
                }, cancellationToken);
                return null;
            }

            return new ApiCaller(principal, address);
        }

        if (await WebChatEndpoints.CurrentUserAsync(http, users, cancellationToken) is { } user)
        {
            return new ApiCaller(await access.ForUserAsync(user, Doors.Api, address, cancellationToken), address);
        }

        return null;
    }

    public static IResult Refused() => Results.Json(
        new ErrorDto($"Authenticate first: send an API key in the {ApiKeyHeader} header, a token from `opsrobot login` as 'Authorization: Bearer …', or sign in to the web console."),
        statusCode: StatusCodes.Status401Unauthorized);

    /// <summary>A 403 with what the caller is missing.</summary>
    public static IResult Forbidden(string explanation) => Results.Json(new ErrorDto(explanation), statusCode: StatusCodes.Status403Forbidden);

    /// <summary>True when the address is this machine.</summary>
    public static bool IsLoopback(string? address) => address is not null && IPAddress.TryParse(address, out var ip) && IPAddress.IsLoopback(ip);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "API call from {Address} refused: {Problem}")]
    private static partial void LogKeyRefused(ILogger logger, string address, string problem);
}
