using Microsoft.Extensions.Options;

namespace OpsRobot.Integrations.Nagios;

/// <summary>
/// Reads Nagios's status data. Parsing status.dat is the costly part of a Nagios command (the file holds every host
/// and service), so a command reads it once and hands the result on; this seam lets a test count the reads.
/// </summary>
public interface INagiosStatusFile
{
    /// <summary>Reads and parses the status data as it is now.</summary>
    Task<NagiosStatus> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>The status file named by <see cref="NagiosOptions.StatusFile"/>, with errors that say what to fix.</summary>
public sealed class NagiosStatusFile(IOptionsMonitor<NagiosOptions> options) : INagiosStatusFile
{
    public async Task<NagiosStatus> ReadAsync(CancellationToken cancellationToken)
    {
        var path = options.CurrentValue.StatusFile;
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new NagiosException("OpsRobot:Nagios:StatusFile is not set: point it at status_file from nagios.cfg.");
        }

        try
        {
            return await StatusDataParser.ReadFileAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException ex)
        {
            throw new NagiosException($"Nagios's status file {path} does not exist. Is Nagios running, and does OpsRobot:Nagios:StatusFile match status_file in nagios.cfg?", ex);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new NagiosException($"Nagios's status file {path} does not exist (nor its folder). Set OpsRobot:Nagios:StatusFile to status_file from nagios.cfg.", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new NagiosException($"OpsRobot may not read Nagios's status file {path}. Give OpsRobot's user read access (Debian: the nagios group).", ex);
        }
    }
}
