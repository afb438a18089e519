/** `qbo-sync customers sync --tenant T` (CONTRACT §5, §8). */
import type { Command } from 'commander';
import { syncCustomers } from '../../app/sync-customers.js';
import { action, type CliIo, type CommandContext, targetOptions, tenantOption } from '../context.js';
import { table } from '../output.js';

export function registerCustomers(program: Command, io: CliIo): void {
  const customers = program
    .command('customers')
    .description('the QuickBooks customers the sync maps members to');

  targetOptions(
    customers
      .command('sync')
      .description(
        "download every active QuickBooks customer of the tenant's company and store email → customer Id (the oldest customer wins a shared email)",
      )
      .addOption(tenantOption('the tenant whose company to read', true)),
  ).action(
    action(io, async (ctx: CommandContext) => {
      const tenantId = (ctx.flags as { tenant: string }).tenant;
      const services = await ctx.services();
      const result = await ctx.out.withProgress('Reading QuickBooks customers', (progress) =>
        syncCustomers(
          {
            tenants: services.tenants,
            customers: services.customers,
            quickbooks: (realmId, c) => services.quickbooks.forRealm(realmId, c),
          },
          { tenantId, onProgress: (read) => progress.update(read, 'customers') },
        ),
      );
      const json = {
        tenant: result.tenant,
        customers: result.customers,
        mapped: result.mapped,
        withoutEmail: result.withoutEmail,
        sharedEmails: result.sharedEmails,
        realmId: result.realmId,
      };
      ctx.out.result(json, (r) => {
        const lines = [
          `${ctx.out.green('✓')} Tenant ${r.tenant} (QuickBooks company ${r.realmId}): ${r.customers} active customer${r.customers === 1 ? '' : 's'} read, ${r.mapped} email${r.mapped === 1 ? '' : 's'} mapped, ${r.withoutEmail} without an email.`,
        ];
        if (r.sharedEmails.length > 0) {
          lines.push(
            '',
            `${r.sharedEmails.length} email${r.sharedEmails.length === 1 ? ' is' : 's are'} shared by several customers; the first (oldest) one is mapped, consider merging the others in QuickBooks:`,
            table(
              ['EMAIL', 'MAPPED TO', 'ALSO'],
              r.sharedEmails.map((s) => [s.email, s.ids[0] ?? '', s.ids.slice(1).join(', ')]),
            ),
          );
        }
        return lines.join('\n');
      });
      return 0;
    }),
  );
}
