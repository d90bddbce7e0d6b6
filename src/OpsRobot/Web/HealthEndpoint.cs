using OpsRobot.Core.Status;

namespace OpsRobot.Web;

/// <summary><c>GET /health</c> for load balancers: 200 while nothing is unhealthy, 503 otherwise, with each part's state.</summary>
internal static class HealthEndpoint
{
    public static IEndpointRouteBuilder MapOpsRobotHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", async (IEnumerable<IStatusSource> sources, RobotInfo info, CancellationToken ct) =>
        {
            var components = new List<object>();
            var worst = HealthState.Healthy;
            foreach (var source in sources)
            {
                var status = await source.GetStatusAsync(ct);
                worst = (HealthState)Math.Max((int)worst, (int)status.State);
                components.Add(new { name = status.Component, state = status.State.ToString().ToLowerInvariant() });
            }

            // Details (paths, errors) stay in !status for signed-in users; this endpoint is unauthenticated.
            return Results.Json(
                new { status = worst.ToString().ToLowerInvariant(), version = info.Version, components },
                statusCode: worst == HealthState.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
        }).AllowAnonymous().WithTags("Health");
        return app;
    }
}
