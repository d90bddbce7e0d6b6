using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Core.Actions;
using OpsRobot.Integrations.Ssh;

namespace OpsRobot.Integrations.Deploy;

/// <summary>Registration of the <c>deploy</c> runner and its back-ends.</summary>
public static class DeployServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="DeployRunner"/>, the Ansible and Salt back-ends and <see cref="DeployOptions"/> (bound by the host from
    /// <c>OpsRobot:Deploy</c>). Deployments are recorded in the store's <c>IDeploymentStore</c>; SSH keys, host
    /// checks and known hosts are the <c>ssh</c> runner's (<see cref="SshServiceCollectionExtensions.AddSsh"/>).
    /// </summary>
    public static IServiceCollection AddDeploy(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSsh();
        services.AddOptions<DeployOptions>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDeployBackend, AnsibleBackend>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDeployBackend, SaltBackend>());

        // The default client logging writes request URLs; salt-api's requests carry the token in a header, and the
        // login carries the password: keep them out of logs altogether.
        services.AddHttpClient(SaltBackend.ClientName).RemoveAllLoggers();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRunner, DeployRunner>());
        return services;
    }
}
