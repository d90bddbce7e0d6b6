using Microsoft.Extensions.DependencyInjection;
using OpsRobot.Integrations.Cmdb;

namespace OpsRobot.Integrations;

/// <summary>Registers every integration that ships; each folder adds its own line here.</summary>
public static class IntegrationsServiceCollectionExtensions
{
    public static IServiceCollection AddOpsRobotIntegrations(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddCmdb();
        return services;
    }
}
