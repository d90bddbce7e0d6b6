using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Core.Alerts;

namespace OpsRobot.Integrations.Alertmanager;

/// <summary>Registration of the Alertmanager client and its <see cref="IAlertSource"/>.</summary>
public static class AlertmanagerServiceCollectionExtensions
{
    /// <summary>Adds <see cref="AlertmanagerClient"/> and the <c>alertmanager</c> alert source. Configure <see cref="AlertmanagerOptions"/> from <c>OpsRobot:Alertmanager</c>.</summary>
    public static IServiceCollection AddAlertmanager(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<AlertmanagerOptions>();
        // The client's own per-call limit (AlertmanagerOptions.Timeout) applies; HttpClient's would only say "canceled".
        services.AddHttpClient(AlertmanagerClient.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan);
        services.TryAddSingleton<AlertmanagerClient>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertSource, AlertmanagerAlertSource>());
        return services;
    }
}
